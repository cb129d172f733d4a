-- title: Trail is not logging
-- severity: info
-- rationale: A stopped trail delivers nothing and costs nothing, so it never counts as a copy; but it still looks like coverage in the console, and starting it again would add a copy.
-- remediation: Delete it if it is not needed (aws cloudtrail delete-trail), so nobody restarts it by mistake.
SELECT 'stopped-trail' AS rule_id,
    'info' AS severity,
    t.owner_account_id AS account_id,
    t.home_region AS region,
    t.trail_arn AS trail_arns,
    printf('"%s" is not logging: it delivers nothing', t.name) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    NULL AS paid_copies
FROM v_trails t
WHERE t.snapshot_id = :snapshot_id
  AND t.logging = 'no'
ORDER BY t.owner_account_id, t.home_region, t.trail_arn;
