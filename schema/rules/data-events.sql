-- title: Data events are charged
-- severity: warning
-- rationale: Data events have no free copy: every trail that delivers them is billed $0.10 per 100,000 events, from the first event, in every account and region it covers. Data events left on after a proof of concept are a common source of unexpected cost.
-- remediation: Remove the data selectors that are no longer needed (aws cloudtrail put-event-selectors with management events only), or scope them to the buckets and functions that need them.
WITH scopes AS (
    SELECT snapshot_id, trail_arn, group_concat(resource_type, ', ') AS types
    FROM (SELECT DISTINCT snapshot_id, trail_arn, resource_type
          FROM v_trail_scopes WHERE category = 'Data'
          ORDER BY snapshot_id, trail_arn, resource_type)
    GROUP BY snapshot_id, trail_arn
)
SELECT 'data-events' AS rule_id,
    'warning' AS severity,
    c.account_id,
    c.region,
    t.trail_arn AS trail_arns,
    printf('data events on "%s": %s', t.name, sc.types) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies,
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        (SELECT x.data_monthly FROM v_trail_region_costs x
         WHERE x.snapshot_id = c.snapshot_id AND x.account_id = c.account_id
           AND x.region = c.region AND x.trail_arn = c.trail_arn)
    END AS monthly_cost
FROM v_coverage c
JOIN v_trails t ON t.snapshot_id = c.snapshot_id AND t.trail_arn = c.trail_arn
JOIN scopes sc ON sc.snapshot_id = t.snapshot_id AND sc.trail_arn = t.trail_arn
WHERE c.snapshot_id = :snapshot_id
  AND t.delivers
ORDER BY c.account_id, c.region, t.trail_arn;
