-- title: Trail skips some management event sources
-- severity: info
-- rationale: ExcludeManagementEventSources (or eventSource NotEquals) narrows a trail's capture: it is still a full, billed copy for every other event source. AWS Config's multi-region-cloudtrail-enabled rule counts such a trail as non-compliant.
-- remediation: None needed for cost; know which events the trail does not keep.
SELECT 'excluded-event-sources' AS rule_id,
    'info' AS severity,
    t.owner_account_id AS account_id,
    t.home_region AS region,
    t.trail_arn AS trail_arns,
    printf('"%s" skips management events from %s', t.name,
           t.excluded_sources) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies
FROM v_trails t
WHERE t.snapshot_id = :snapshot_id
  AND t.excluded_sources IS NOT NULL
ORDER BY t.owner_account_id, t.home_region, t.trail_arn;
