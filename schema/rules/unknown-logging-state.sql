-- title: Logging state unknown
-- severity: info
-- rationale: Without GetTrailStatus the analyzer cannot tell whether a trail delivers. It counts the trail as logging, so that copies are never under-counted, and says so.
-- remediation: Collect get-trail-status.json for the trail (cloudtrail:GetTrailStatus).
SELECT 'unknown-logging-state' AS rule_id,
    'info' AS severity,
    t.owner_account_id AS account_id,
    t.home_region AS region,
    t.trail_arn AS trail_arns,
    printf('logging state of "%s" is unknown: counted as logging', t.name)
        AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies
FROM v_trails t
WHERE t.snapshot_id = :snapshot_id
  AND t.logging = 'unknown'
ORDER BY t.owner_account_id, t.home_region, t.trail_arn;
