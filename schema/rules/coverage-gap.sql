-- title: Management events not captured
-- severity: warning
-- rationale: Saving money must not cost visibility. An enabled region with no logging trail that captures management events, or one that captures only reads or only writes, has no audit record of those API calls. Such a gap is a finding, never silently fine, and no remediation may create one.
-- remediation: Make sure one logging trail (the organization trail, ideally multi-region) captures read and write management events in every enabled region.
SELECT 'coverage-gap' AS rule_id,
    'warning' AS severity,
    m.account_id,
    m.region,
    (SELECT group_concat(trail_arn, ' ') FROM (
        SELECT c.trail_arn FROM v_coverage c
        JOIN v_trails t ON t.snapshot_id = c.snapshot_id
            AND t.trail_arn = c.trail_arn
        WHERE c.snapshot_id = m.snapshot_id AND c.account_id = m.account_id
          AND c.region = m.region AND t.delivers
        ORDER BY c.trail_arn)) AS trail_arns,
    CASE
        WHEN m.read_copies = 0 AND m.write_copies = 0
            THEN 'no logging trail captures management events'
        WHEN m.read_copies = 0
            THEN 'only write management events are captured: reads are not'
        ELSE 'only read management events are captured: writes are not'
    END AS detail,
    m.read_copies,
    m.write_copies,
    0 AS paid_copies
FROM v_region_mgmt m
JOIN v_accounts a ON a.snapshot_id = m.snapshot_id
    AND a.account_id = m.account_id
WHERE m.snapshot_id = :snapshot_id
  AND a.scan_status = 'scanned'
  AND m.scan_state = 'scanned'
  AND m.unknown_trails = 0
  AND (m.read_copies = 0 OR m.write_copies = 0)
ORDER BY m.account_id, m.region;
