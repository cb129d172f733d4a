-- title: What this snapshot could not see
-- severity: warning
-- rationale: A skipped account, a region whose DescribeTrails failed, a trail whose selectors or status could not be read, or an interrupted collection is not a clean result: costs and gaps there are unknown.
-- remediation: Fix access (see the probable causes) and collect again; for hand-made dumps, add the missing files.
WITH f AS (
    SELECT a.account_id, NULL AS region, NULL AS trail_arns,
        'account not scanned: ' || a.scan_reason
        || coalesce(' (probable causes: ' || a.probable_causes || ')', '')
            AS detail
    FROM v_accounts a
    WHERE a.snapshot_id = :snapshot_id AND a.scan_status = 'skipped'
    UNION ALL
    SELECT a.account_id, NULL, NULL, 'account listed by Organizations but '
        || a.scan_reason
    FROM v_accounts a
    WHERE a.snapshot_id = :snapshot_id AND a.scan_status = 'not_collected'
      AND coalesce(a.org_status, 'ACTIVE') = 'ACTIVE'
    UNION ALL
    SELECT e.account_id, e.region, NULL,
        printf('%s failed: %s%s', e.operation, coalesce(e.code, 'error'),
               coalesce(': ' || e.message, ''))
    FROM errors e
    WHERE e.snapshot_id = :snapshot_id AND e.scope = 'region'
      AND e.trail_name IS NULL
    UNION ALL
    SELECT e.account_id, e.region,
        printf('arn:%s:cloudtrail:%s:%s:trail/%s', r.partition, e.region,
               e.trail_owner, e.trail_name),
        printf('%s failed for trail "%s": %s%s', e.operation, e.trail_name,
               coalesce(e.code, 'error'), coalesce(': ' || e.message, ''))
    FROM errors e
    JOIN v_regions r ON r.snapshot_id = e.snapshot_id AND r.region = e.region
    WHERE e.snapshot_id = :snapshot_id AND e.scope = 'region'
      AND e.trail_name IS NOT NULL
    UNION ALL
    SELECT e.account_id, NULL, NULL,
        printf('%s failed: %s%s', e.operation, coalesce(e.code, 'error'),
               coalesce(': ' || e.message, ''))
    FROM errors e
    WHERE e.snapshot_id = :snapshot_id
      AND e.scope IN ('account_operation', 'organization')
    UNION ALL
    SELECT t.owner_account_id, t.home_region, t.trail_arn,
        printf('event selectors of "%s" are unknown (no get-event-selectors.json and HasCustomEventSelectors is not false): its copies are not counted',
               t.name)
    FROM v_trails t
    WHERE t.snapshot_id = :snapshot_id AND t.selectors = 'unknown'
    UNION ALL
    SELECT t.owner_account_id, t.home_region, t.trail_arn,
        printf('Insights selectors of "%s" are unknown', t.name)
    FROM v_trails t
    WHERE t.snapshot_id = :snapshot_id AND t.insights_source = 'unknown'
    UNION ALL
    SELECT account_id, NULL, NULL,
        printf('%d enabled region(s) not scanned: %s', count(*),
               group_concat(region, ', '))
    FROM (SELECT r.account_id, r.region FROM v_account_regions r
          JOIN v_accounts a ON a.snapshot_id = r.snapshot_id
              AND a.account_id = r.account_id AND a.scan_status = 'scanned'
          WHERE r.snapshot_id = :snapshot_id
            AND r.scan_state = 'not_scanned'
          ORDER BY r.account_id, r.region)
    GROUP BY account_id
    UNION ALL
    SELECT NULL, NULL, NULL,
        'the collection did not complete (manifest complete: false)'
        || coalesce(': not collected: ' || s.not_collected_json, '')
    FROM snapshots s
    WHERE s.snapshot_id = :snapshot_id AND s.complete = 0
)
SELECT 'incomplete-data' AS rule_id,
    'warning' AS severity,
    account_id,
    region,
    trail_arns,
    detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies
FROM f
ORDER BY account_id, region, trail_arns, detail;
