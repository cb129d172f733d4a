-- title: The same data events on several trails
-- severity: warning
-- rationale: Two logging trails covering the same account and region that capture the same resource type with overlapping scope each pay for their own copy of those data events. Where the overlap cannot be decided (suffix matches, exclusions, event name filters) the finding says "possible overlap", never "none".
-- remediation: Capture each resource's data events on one trail only; narrow or remove the selectors of the other.
SELECT 'duplicate-data-events' AS rule_id,
    'warning' AS severity,
    ca.account_id,
    ca.region,
    o.trail_a || ' ' || o.trail_b AS trail_arns,
    printf('%s data events of %s on "%s" and "%s"',
           CASE WHEN o.overlap = 2 THEN 'overlapping' ELSE 'possible overlap of' END,
           o.resource_type, ta.name, tb.name) AS detail,
    NULL AS read_copies,
    NULL AS write_copies,
    CASE WHEN o.overlap = 2 THEN 1 ELSE 0 END AS paid_copies
FROM v_scope_overlaps o
JOIN v_trails ta ON ta.snapshot_id = o.snapshot_id AND ta.trail_arn = o.trail_a
JOIN v_trails tb ON tb.snapshot_id = o.snapshot_id AND tb.trail_arn = o.trail_b
JOIN v_coverage ca ON ca.snapshot_id = o.snapshot_id AND ca.trail_arn = o.trail_a
JOIN v_coverage cb ON cb.snapshot_id = o.snapshot_id AND cb.trail_arn = o.trail_b
    AND cb.account_id = ca.account_id AND cb.region = ca.region
WHERE o.snapshot_id = :snapshot_id
  AND o.category = 'Data'
  AND ta.delivers AND tb.delivers
ORDER BY ca.account_id, ca.region, o.trail_a, o.trail_b, o.resource_type;
