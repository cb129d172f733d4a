-- title: The same data events on several trails
-- severity: warning
-- rationale: Two logging trails covering the same account and region that capture the same resource type with overlapping scope each pay for their own copy of those data events. Where the overlap cannot be decided (suffix matches, exclusions, event name filters) the finding says "possible overlap", never "none".
-- remediation: Capture each resource's data events on one trail only; narrow or remove the selectors of the other.
-- The regions both trails cover are found from the trail with the smaller
-- coverage: an organization trail covers every account, a member trail one.
WITH pairs AS (
    SELECT o.*,
        CASE WHEN t.is_organization_trail = 1 THEN o.trail_b
             ELSE o.trail_a END AS drive_trail,
        CASE WHEN t.is_organization_trail = 1 THEN o.trail_a
             ELSE o.trail_b END AS probe_trail
    FROM v_scope_overlaps o
    JOIN v_trails t ON t.snapshot_id = o.snapshot_id
        AND t.trail_arn = o.trail_a
    WHERE o.snapshot_id = :snapshot_id
      AND o.category = 'Data'
)
SELECT 'duplicate-data-events' AS rule_id,
    'warning' AS severity,
    ca.account_id,
    ca.region,
    o.trail_a || ' ' || o.trail_b AS trail_arns,
    printf('%s data events of %s on "%s" and "%s"',
           CASE WHEN o.overlap = 2 THEN 'overlapping' ELSE 'possible overlap of' END,
           o.resource_type, ta.name, tb.name) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    CASE WHEN o.overlap = 2 THEN 1 ELSE 0 END AS paid_copies,
    -- the duplicate copy: the smaller of the two trails' shares
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        CASE WHEN o.overlap = 2 THEN (
            SELECT CASE WHEN count(x.data_monthly) = 2 THEN min(x.data_monthly) END
            FROM v_trail_region_costs x
            WHERE x.snapshot_id = ca.snapshot_id
              AND x.account_id = ca.account_id AND x.region = ca.region
              AND x.trail_arn IN (o.trail_a, o.trail_b)) END
    END AS monthly_cost
FROM pairs o
JOIN v_trails ta ON ta.snapshot_id = o.snapshot_id AND ta.trail_arn = o.trail_a
JOIN v_trails tb ON tb.snapshot_id = o.snapshot_id AND tb.trail_arn = o.trail_b
JOIN v_coverage ca ON ca.snapshot_id = o.snapshot_id
    AND ca.trail_arn = o.drive_trail
JOIN v_coverage cb ON cb.snapshot_id = ca.snapshot_id
    AND cb.account_id = ca.account_id AND cb.region = ca.region
    AND cb.trail_arn = o.probe_trail
WHERE ta.delivers AND tb.delivers
ORDER BY ca.account_id, ca.region, o.trail_a, o.trail_b, o.resource_type;
