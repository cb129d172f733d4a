-- title: Duplicate management events
-- severity: warning
-- rationale: CloudTrail delivers the first copy of management events in each account and region free; every further trail that delivers the same events is billed at $2.00 per 100,000 events. Reads and writes are counted separately: a ReadOnly trail beside a WriteOnly trail pays nothing extra.
-- remediation: Keep one trail that captures reads and writes (prefer the organization trail) and stop logging on the others, or narrow them to what the kept trail does not capture.
-- the duplicated regions in (account, region) order (v_region_mgmt's
-- key), each with the delivering trails that capture the duplicated kind,
-- by ARN. The trails are read from v_coverage's two parts (the account's
-- own trails, the organization trails of the region), like v_region_mgmt:
-- the rule then runs while v_coverage itself is still being stored.
WITH d AS (
    SELECT d.snapshot_id, d.account_id, d.region, d.read_copies,
        d.write_copies,
        (SELECT group_concat(trail_arn, ' ')
         FROM (SELECT c.trail_arn
               FROM (SELECT oc.trail_arn FROM v_own_coverage oc
                     WHERE oc.snapshot_id = d.snapshot_id
                       AND oc.account_id = d.account_id
                       AND oc.region = d.region
                     UNION ALL
                     SELECT o.trail_arn FROM v_organization_trail_regions o
                     WHERE o.snapshot_id = d.snapshot_id
                       AND o.region = d.region) c
               JOIN v_trails t ON t.snapshot_id = d.snapshot_id
                   AND t.trail_arn = c.trail_arn
               WHERE t.delivers
                 AND ((d.read_copies > 1 AND t.mgmt_reads = 1)
                      OR (d.write_copies > 1 AND t.mgmt_writes = 1))
               ORDER BY c.trail_arn)) AS trail_arns
    FROM v_region_mgmt d
    WHERE d.snapshot_id = :snapshot_id
      AND (d.read_copies > 1 OR d.write_copies > 1)
)
SELECT 'duplicate-management-events' AS rule_id,
    'warning' AS severity,
    d.account_id,
    d.region,
    d.trail_arns,
    printf('%d read and %d write copies of management events: %s',
           d.read_copies, d.write_copies,
           CASE
               WHEN d.read_copies > 1 AND d.write_copies > 1
                   THEN printf('%d paid read and %d paid write cop%s',
                               d.read_copies - 1, d.write_copies - 1,
                               CASE WHEN d.write_copies = 2 THEN 'y'
                                    ELSE 'ies' END)
               WHEN d.read_copies > 1
                   THEN printf('%d paid read cop%s', d.read_copies - 1,
                               CASE WHEN d.read_copies = 2 THEN 'y'
                                    ELSE 'ies' END)
               ELSE printf('%d paid write cop%s', d.write_copies - 1,
                           CASE WHEN d.write_copies = 2 THEN 'y'
                                ELSE 'ies' END)
           END) AS detail,
    d.read_copies,
    d.write_copies,
    max(d.read_copies, d.write_copies) - 1 AS paid_copies,
    -- looked up only when the snapshot has dollars (a cost basis)
    CASE WHEN EXISTS (SELECT 1 FROM v_cost_basis k
                      WHERE k.snapshot_id = :snapshot_id) THEN
        (SELECT rc.paid_mgmt_monthly FROM v_region_costs rc
         WHERE rc.snapshot_id = d.snapshot_id
           AND rc.account_id = d.account_id AND rc.region = d.region)
    END AS monthly_cost
FROM d
ORDER BY d.account_id, d.region;
