-- title: Duplicate global service events
-- severity: warning
-- rationale: Global service events (IAM, STS, CloudFront) are recorded in the partition's global region (us-east-1). Every trail there with IncludeGlobalServiceEvents delivers its own copy of the reads or writes it captures; beyond the first copy of each, every copy is billed like any management event copy.
-- remediation: Keep IncludeGlobalServiceEvents on one trail only (aws cloudtrail update-trail --no-include-global-service-events on single-region trails that duplicate it).
SELECT 'duplicate-global-service-events' AS rule_id,
    CASE WHEN m.read_copies > 1 OR m.write_copies > 1 THEN 'info'
         ELSE 'warning' END AS severity,
    g.account_id,
    g.region,
    g.trail_arns,
    printf('%d read and %d write copies of global service events (IAM, STS, CloudFront)%s',
           g.read_copies, g.write_copies,
           CASE WHEN m.read_copies > 1 OR m.write_copies > 1
                THEN ': already counted with the region''s duplicate management events'
                ELSE '' END) AS detail,
    g.read_copies,
    g.write_copies,
    max(g.read_copies, g.write_copies) - 1 AS paid_copies
FROM v_global_events g
JOIN v_region_mgmt m ON m.snapshot_id = g.snapshot_id
    AND m.account_id = g.account_id AND m.region = g.region
WHERE g.snapshot_id = :snapshot_id
  AND (g.read_copies > 1 OR g.write_copies > 1)
ORDER BY g.account_id, g.region;
