-- title: Account trail overlaps the organization trail
-- severity: warning
-- rationale: An organization trail already delivers management events for every member account and region. A member account's own trail that captures the same management events is a second, paid copy in every region it covers, even when the member's DescribeTrails listing does not show the organization trail.
-- remediation: Stop logging on (or delete) the account's own trail, after confirming that compliance does not require an account-level copy; never change the organization trail from a member account.
SELECT 'organization-trail-overlap' AS rule_id,
    'warning' AS severity,
    c.account_id,
    c.region,
    t.trail_arn || ' ' || o.trail_arn AS trail_arns,
    printf('"%s" duplicates %s management events already delivered by organization trail "%s"%s',
           t.name,
           CASE
               WHEN t.mgmt_reads = 1 AND o.mgmt_reads = 1
                    AND t.mgmt_writes = 1 AND o.mgmt_writes = 1
                   THEN 'read and write'
               WHEN t.mgmt_reads = 1 AND o.mgmt_reads = 1 THEN 'read'
               ELSE 'write'
           END,
           o.name,
           CASE WHEN EXISTS (SELECT 1 FROM trail_sightings s
                             WHERE s.snapshot_id = c.snapshot_id
                               AND s.account_id = c.account_id
                               AND s.region = c.region
                               AND s.trail_arn = o.trail_arn) THEN ''
                ELSE ' (not shown in this account''s DescribeTrails listing)'
           END) AS detail,
    m.read_copies,
    m.write_copies,
    max(m.read_copies, m.write_copies) - 1 AS paid_copies,
    -- what this account's own copy costs: one paid copy
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        (SELECT rc.mgmt_copy_monthly FROM v_region_costs rc
         WHERE rc.snapshot_id = c.snapshot_id
           AND rc.account_id = c.account_id AND rc.region = c.region)
    END AS monthly_cost
-- CROSS JOIN: from the accounts' own trails (the organization trails are
-- few, and each covers nearly every region)
FROM v_own_coverage c
JOIN v_trails t ON t.snapshot_id = c.snapshot_id AND t.trail_arn = c.trail_arn
CROSS JOIN v_organization_trail_regions oc ON oc.snapshot_id = c.snapshot_id
    AND oc.region = c.region
JOIN v_trails o ON o.snapshot_id = oc.snapshot_id
    AND o.trail_arn = oc.trail_arn
JOIN v_region_mgmt m ON m.snapshot_id = c.snapshot_id
    AND m.account_id = c.account_id AND m.region = c.region
WHERE c.snapshot_id = :snapshot_id
  AND t.delivers
  AND o.delivers
  AND ((t.mgmt_reads = 1 AND o.mgmt_reads = 1)
       OR (t.mgmt_writes = 1 AND o.mgmt_writes = 1))
ORDER BY c.account_id, c.region, t.trail_arn, o.trail_arn;
