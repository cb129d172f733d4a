-- title: The same network activity events on several trails
-- severity: warning
-- rationale: Each trail that captures network activity events of the same event source pays for its own copy.
-- remediation: Capture each event source's network activity on one trail only.
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
      AND o.category = 'NetworkActivity'
)
SELECT 'duplicate-network-activity-events' AS rule_id,
    'warning' AS severity,
    ca.account_id,
    ca.region,
    o.trail_a || ' ' || o.trail_b AS trail_arns,
    printf('%s network activity events on "%s" and "%s"',
           CASE WHEN o.overlap = 2 THEN 'the same' ELSE 'possibly the same' END,
           ta.name, tb.name) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    CASE WHEN o.overlap = 2 THEN 1 ELSE 0 END AS paid_copies,
    -- the duplicate copy: the smaller of the two trails' shares
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        CASE WHEN o.overlap = 2 THEN (
            SELECT CASE WHEN count(x.network_monthly) = 2 THEN min(x.network_monthly) END
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
ORDER BY ca.account_id, ca.region, o.trail_a, o.trail_b;
