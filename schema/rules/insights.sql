-- title: Insights are charged per type per trail
-- severity: warning
-- rationale: CloudTrail Insights bills each Insights type on each trail for the events it analyzes: $0.35 per 100,000 management events ($0.03 per 100,000 data events). ApiCallRateInsight analyzes write management events; ApiErrorRateInsight analyzes read and write management events; with EventCategories Data they analyze data events too.
-- remediation: Keep Insights on one trail and only the types you use (aws cloudtrail put-insight-selectors with the types to keep).
SELECT 'insights' AS rule_id,
    'warning' AS severity,
    c.account_id,
    c.region,
    t.trail_arn AS trail_arns,
    printf('Insights on "%s": %s', t.name,
           (SELECT group_concat(x, '; ') FROM (
                SELECT i.insight_type || ' (' || i.analyzes || ')' AS x
                FROM v_trail_insights i
                WHERE i.snapshot_id = t.snapshot_id
                  AND i.trail_arn = t.trail_arn
                ORDER BY i.insight_type))) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies,
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        (SELECT x.insights_monthly FROM v_trail_region_costs x
         WHERE x.snapshot_id = c.snapshot_id AND x.account_id = c.account_id
           AND x.region = c.region AND x.trail_arn = c.trail_arn)
    END AS monthly_cost
FROM v_coverage c
JOIN v_trails t ON t.snapshot_id = c.snapshot_id AND t.trail_arn = c.trail_arn
WHERE c.snapshot_id = :snapshot_id
  AND t.delivers
  AND t.has_insights = 1
ORDER BY c.account_id, c.region, t.trail_arn;
