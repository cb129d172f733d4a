-- title: Network activity events are charged
-- severity: warning
-- rationale: Network activity events (VPC endpoint activity, eventCategory NetworkActivity) are billed $0.10 per 100,000 events on every trail that delivers them, with no free copy.
-- remediation: Remove the NetworkActivity selectors that are not needed, or keep them on one trail only.
SELECT 'network-activity-events' AS rule_id,
    'warning' AS severity,
    c.account_id,
    c.region,
    t.trail_arn AS trail_arns,
    printf('network activity events on "%s": %s', t.name,
           coalesce((SELECT group_concat(value, ', ') FROM (
                SELECT DISTINCT st.value FROM v_trail_scopes s
                JOIN v_scope_terms st ON st.snapshot_id = s.snapshot_id
                    AND st.scope_id = s.scope_id
                WHERE s.snapshot_id = t.snapshot_id
                  AND s.trail_arn = t.trail_arn
                  AND s.category = 'NetworkActivity'
                ORDER BY st.value)), 'all event sources')) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies,
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        (SELECT x.network_monthly FROM v_trail_region_costs x
         WHERE x.snapshot_id = c.snapshot_id AND x.account_id = c.account_id
           AND x.region = c.region AND x.trail_arn = c.trail_arn)
    END AS monthly_cost
FROM v_coverage c
JOIN v_trails t ON t.snapshot_id = c.snapshot_id AND t.trail_arn = c.trail_arn
WHERE c.snapshot_id = :snapshot_id
  AND t.delivers
  AND t.has_network = 1
ORDER BY c.account_id, c.region, t.trail_arn;
