-- title: Billed usage that the snapshot does not explain
-- severity: warning
-- rationale: Cost Explorer (organization/cost-and-usage*.json) bills CloudTrail usage that no configuration in the snapshot accounts for: paid management events where the snapshot shows at most one copy, data, network activity or Insights charges where no delivering trail has them, or charges in an account or region the snapshot does not cover. Either the snapshot is incomplete (a trail, region or account it could not see) or stale (the configuration changed after the billed months), or the usage belongs to another trail owner; findings computed from this snapshot may understate what is paid.
-- remediation: Collect a fresh, complete snapshot (ctcollect --costs) covering every account and enabled region, and compare the billing months with the snapshot's date; look for trails in accounts or regions the snapshot skipped.
WITH billed AS (
    SELECT DISTINCT snapshot_id FROM cost_usage
    WHERE snapshot_id = :snapshot_id
),
seen AS (
    SELECT rc.snapshot_id, rc.account_id, rc.region,
        printf('%s', CASE
            WHEN rc.paid_mgmt_monthly > 0 AND rc.copies <= 1
                THEN printf('%.0f paid management events a month, but the snapshot shows %d cop%s',
                            coalesce(rc.paid_events_monthly, 0), rc.copies,
                            CASE WHEN rc.copies = 1 THEN 'y' ELSE 'ies' END)
            WHEN rc.data_monthly > 0 AND rc.data_trails = 0
                THEN 'data events billed, but no delivering trail has data events here'
            WHEN rc.network_monthly > 0 AND rc.network_trails = 0
                THEN 'network activity events billed, but no delivering trail has them here'
            ELSE 'Insights billed, but no delivering trail has Insights here'
        END) AS what,
        CASE
            WHEN rc.paid_mgmt_monthly > 0 AND rc.copies <= 1
                THEN rc.paid_mgmt_monthly ELSE 0 END
        + CASE WHEN rc.data_trails = 0 THEN rc.data_monthly ELSE 0 END
        + CASE WHEN rc.network_trails = 0 THEN rc.network_monthly ELSE 0 END
        + CASE WHEN rc.insight_types = 0 THEN rc.insights_monthly ELSE 0 END
            AS cost,
        m.read_copies, m.write_copies
    FROM v_region_costs rc
    JOIN v_region_mgmt m ON m.snapshot_id = rc.snapshot_id
        AND m.account_id = rc.account_id AND m.region = rc.region
    -- tested first: without billing data no region is read at all
    WHERE EXISTS (SELECT 1 FROM billed)
      AND rc.snapshot_id = :snapshot_id
      AND rc.basis = 'billing'
      AND ((rc.paid_mgmt_monthly > 0 AND rc.copies <= 1)
           OR (rc.data_monthly > 0 AND rc.data_trails = 0)
           OR (rc.network_monthly > 0 AND rc.network_trails = 0)
           OR (rc.insights_monthly > 0 AND rc.insight_types = 0))
),
unseen AS (
    SELECT u.snapshot_id, u.account_id, u.region, sum(u.cost) AS cost
    FROM v_usage_monthly u
    JOIN billed b ON b.snapshot_id = u.snapshot_id
    WHERE u.usage_kind IN ('paid_events', 'data_events', 'network_events',
                           'insights_events', 'data_insights_events')
      AND NOT EXISTS (
        SELECT 1 FROM v_account_regions ar
        WHERE ar.snapshot_id = u.snapshot_id
          AND ar.account_id = u.account_id AND ar.region = u.region)
    GROUP BY u.snapshot_id, u.account_id, u.region
    HAVING sum(u.cost) > 0
)
SELECT 'unexplained-usage' AS rule_id,
    'warning' AS severity,
    account_id,
    region,
    NULL AS trail_arns,
    'Cost Explorer shows ' || what
        || ': the snapshot is incomplete or stale' AS detail,
    read_copies,
    write_copies,
    NULL AS paid_copies,
    cost AS monthly_cost
FROM seen
UNION ALL
SELECT 'unexplained-usage', 'warning', account_id, region, NULL,
    'Cost Explorer shows CloudTrail charges in this '
        || CASE WHEN EXISTS (SELECT 1 FROM v_accounts a
                             WHERE a.snapshot_id = unseen.snapshot_id
                               AND a.account_id = unseen.account_id
                               AND a.scan_status = 'scanned')
                THEN 'region, which the snapshot does not cover'
                ELSE 'account, which the snapshot did not scan' END,
    NULL, NULL, NULL, cost
FROM unseen
ORDER BY 3, 4;
