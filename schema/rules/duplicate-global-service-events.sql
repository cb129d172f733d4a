-- title: Duplicate global service events
-- severity: warning
-- rationale: Global service events (IAM, STS, CloudFront) are recorded in the partition's global region (us-east-1). Every trail there with IncludeGlobalServiceEvents delivers its own copy; beyond the first, each copy is billed like any management event copy.
-- remediation: Keep IncludeGlobalServiceEvents on one trail only (aws cloudtrail update-trail --no-include-global-service-events on single-region trails that duplicate it).
SELECT 'duplicate-global-service-events' AS rule_id,
    CASE WHEN m.read_copies > 1 OR m.write_copies > 1 THEN 'info'
         ELSE 'warning' END AS severity,
    g.account_id,
    g.region,
    g.trail_arns,
    printf('%d copies of global service events (IAM, STS, CloudFront)%s',
           g.copies,
           CASE WHEN m.read_copies > 1 OR m.write_copies > 1
                THEN ': already counted with the region''s duplicate management events'
                ELSE '' END) AS detail,
    m.read_copies,
    m.write_copies,
    g.copies - 1 AS paid_copies
FROM v_global_events g
JOIN v_region_mgmt m ON m.snapshot_id = g.snapshot_id
    AND m.account_id = g.account_id AND m.region = g.region
WHERE g.snapshot_id = :snapshot_id
  AND g.copies > 1
ORDER BY g.account_id, g.region;
