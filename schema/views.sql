-- ctaudit views: what the loaded tables mean for the CloudTrail bill.
-- Every rule in schema/rules/ reads these views. Documented in
-- schema/README.md. Values: 1/0 for yes/no, NULL for "unknown".

-- Partition of a region (mirrors ct_region_partition in core/snapshot.c).
CREATE VIEW v_regions AS
SELECT DISTINCT snapshot_id, region,
    CASE
        WHEN region LIKE 'cn-%' THEN 'aws-cn'
        WHEN region LIKE 'us-gov-%' THEN 'aws-us-gov'
        WHEN region LIKE 'us-isob-%' THEN 'aws-iso-b'
        WHEN region LIKE 'us-iso-%' THEN 'aws-iso'
        ELSE 'aws'
    END AS partition,
    CASE
        WHEN region LIKE 'cn-%' THEN 'cn-northwest-1'
        WHEN region LIKE 'us-gov-%' THEN 'us-gov-west-1'
        ELSE 'us-east-1'
    END AS global_region
FROM (
    -- each part's few regions first: no temporary b-tree of every row
    SELECT DISTINCT snapshot_id, region FROM account_regions
    UNION ALL SELECT DISTINCT snapshot_id, region FROM region_scans
    UNION ALL SELECT DISTINCT snapshot_id, home_region FROM trails
);

-- Every account of a snapshot, its display name and whether it was scanned.
-- scan_status: scanned | skipped (could not be scanned: error.json) |
-- not_collected (listed by Organizations but absent from the snapshot).
CREATE VIEW v_accounts AS
SELECT a.snapshot_id, a.account_id,
    coalesce(a.name, a.alias, a.account_id) AS display_name,
    a.listing_index,
    a.name, a.alias, a.email, a.org_status,
    (a.account_id = o.master_account_id) AS is_management,
    CASE
        WHEN e.account_id IS NOT NULL THEN 'skipped'
        WHEN a.has_folder = 1 THEN 'scanned'
        ELSE 'not_collected'
    END AS scan_status,
    CASE
        WHEN e.account_id IS NOT NULL
            THEN coalesce(e.operation, '?') || ' ' || coalesce(e.code, 'failed')
                 || coalesce(': ' || e.message, '')
        WHEN a.has_folder = 1 THEN NULL
        WHEN a.org_status IS NOT NULL AND a.org_status <> 'ACTIVE'
            THEN 'account is ' || a.org_status
        ELSE 'not in this snapshot'
    END AS scan_reason,
    e.code AS error_code,
    e.probable_causes
FROM accounts a
LEFT JOIN organizations o ON o.snapshot_id = a.snapshot_id
LEFT JOIN errors e ON e.snapshot_id = a.snapshot_id
    AND e.account_id = a.account_id AND e.scope = 'account';

-- The regions of each scanned account: enabled (regions.json) or scanned.
-- scan_state: scanned | error (DescribeTrails failed) | not_scanned.
-- Three disjoint parts (scanned; enabled but not scanned; only an error),
-- each joined to its partition, rather than a UNION: no temporary b-tree
-- of every region, and no temporary table of the union. The second part
-- is an EXCEPT in key order, which SQLite merges from the two primary
-- keys instead of looking every enabled region up in region_scans
-- (LIMIT -1 keeps SQLite from dropping the ORDER BY that the merge needs).
CREATE VIEW v_account_regions AS
SELECT s.snapshot_id, s.account_id, s.region, g.partition, g.global_region,
    'scanned' AS scan_state
FROM region_scans s
JOIN v_regions g ON g.snapshot_id = s.snapshot_id AND g.region = s.region
UNION ALL
SELECT a.snapshot_id, a.account_id, a.region, g.partition, g.global_region,
    CASE
        WHEN EXISTS (SELECT 1 FROM errors e
                     WHERE e.snapshot_id = a.snapshot_id
                       AND e.account_id = a.account_id
                       AND e.region = a.region
                       AND e.operation = 'DescribeTrails') THEN 'error'
        ELSE 'not_scanned'
    END
FROM (SELECT snapshot_id, account_id, region FROM account_regions
      WHERE enabled = 1
      EXCEPT
      SELECT snapshot_id, account_id, region FROM region_scans
      ORDER BY 1, 2, 3 LIMIT -1) a
JOIN v_regions g ON g.snapshot_id = a.snapshot_id AND g.region = a.region
UNION ALL
SELECT DISTINCT e.snapshot_id, e.account_id, e.region, g.partition,
    g.global_region, 'error'
FROM errors e
JOIN v_regions g ON g.snapshot_id = e.snapshot_id AND g.region = e.region
WHERE e.scope = 'region' AND e.operation = 'DescribeTrails'
  AND NOT EXISTS (SELECT 1 FROM region_scans s
                  WHERE s.snapshot_id = e.snapshot_id
                    AND s.account_id = e.account_id
                    AND s.region = e.region)
  AND NOT EXISTS (SELECT 1 FROM account_regions a
                  WHERE a.snapshot_id = e.snapshot_id
                    AND a.account_id = e.account_id
                    AND a.region = e.region AND a.enabled = 1);

-- Coverage, in two parts (v_coverage is their union). The regions where
-- each organization trail delivers the events of every account of the
-- snapshot: its partition's (multi-region) or its home region.
CREATE VIEW v_organization_trail_regions AS
SELECT g.snapshot_id, g.region, t.trail_arn
FROM trails t
JOIN v_regions g ON g.snapshot_id = t.snapshot_id
WHERE t.is_organization_trail = 1
  AND CASE WHEN coalesce(t.is_multi_region, 0) = 1
           THEN g.partition = t.partition
           ELSE g.region = t.home_region END;

-- An account's own trails: its multi-region trails in every region of the
-- account in the trail's partition, its single-region trails in their home
-- region.
CREATE VIEW v_own_coverage AS
SELECT ar.snapshot_id, ar.account_id, ar.region, t.trail_arn
FROM v_account_regions ar
JOIN trails t ON t.snapshot_id = ar.snapshot_id
    AND t.owner_account_id = ar.account_id
WHERE coalesce(t.is_organization_trail, 0) = 0
  AND CASE WHEN coalesce(t.is_multi_region, 0) = 1
           THEN ar.partition = t.partition
           ELSE ar.region = t.home_region END;

-- The per-trail document used for each kind: the owner's copy when the
-- snapshot has it (an organization trail read from the management account),
-- else the one fetched by the smallest account id. Two seeks into the
-- table's unique index per document, rather than a window over a sort.
CREATE VIEW v_trail_documents AS
SELECT d.snapshot_id, d.trail_arn, d.kind, d.doc_id, d.account_id, d.member
FROM trail_documents d
WHERE d.account_id = coalesce(
    (SELECT o.account_id FROM trail_documents o
     WHERE o.snapshot_id = d.snapshot_id AND o.trail_arn = d.trail_arn
       AND o.kind = d.kind AND o.account_id = d.owner_account_id),
    (SELECT min(o.account_id) FROM trail_documents o
     WHERE o.snapshot_id = d.snapshot_id AND o.trail_arn = d.trail_arn
       AND o.kind = d.kind));

-- Management-event selectors of each trail, one row per selector, with what
-- it captures. Basic selectors: IncludeManagementEvents (default true) and
-- ReadWriteType (default All). Advanced: eventCategory = Management, with
-- readOnly narrowing to reads (true) or writes (false).
CREATE VIEW v_mgmt_selectors AS
WITH basic AS (
    SELECT d.snapshot_id, d.trail_arn, d.doc_id, 'basic' AS style,
        e.selector_index,
        (coalesce(e.read_write_type, 'All') IN ('All', 'ReadOnly')) AS reads,
        (coalesce(e.read_write_type, 'All') IN ('All', 'WriteOnly')) AS writes
    FROM v_trail_documents d
    JOIN event_selectors e ON e.doc_id = d.doc_id
    WHERE d.kind = 'event_selectors'
      AND coalesce(e.include_management_events, 1) = 1
),
adv AS (
    SELECT d.snapshot_id, d.trail_arn, d.doc_id, a.selector_index,
        max(f.field = 'eventCategory' AND f.operator = 'Equals'
            AND f.value = 'Management') AS is_mgmt,
        max(f.field = 'readOnly' AND f.operator = 'Equals'
            AND f.value = 'true') AS ro_true,
        max(f.field = 'readOnly' AND f.operator = 'Equals'
            AND f.value = 'false') AS ro_false,
        max(f.field = 'readOnly' AND f.operator = 'NotEquals'
            AND f.value = 'true') AS ro_not_true,
        max(f.field = 'readOnly' AND f.operator = 'NotEquals'
            AND f.value = 'false') AS ro_not_false
    FROM v_trail_documents d
    JOIN advanced_event_selectors a ON a.doc_id = d.doc_id
    LEFT JOIN advanced_field_selectors f
        ON f.doc_id = a.doc_id AND f.selector_index = a.selector_index
    WHERE d.kind = 'event_selectors'
    GROUP BY d.snapshot_id, d.trail_arn, d.doc_id, a.selector_index
)
SELECT snapshot_id, trail_arn, doc_id, style, selector_index, reads, writes
FROM basic
UNION ALL
SELECT snapshot_id, trail_arn, doc_id, 'advanced', selector_index,
    (CASE WHEN ro_true OR ro_false THEN ro_true ELSE 1 END) AND NOT ro_not_true,
    (CASE WHEN ro_true OR ro_false THEN ro_false ELSE 1 END) AND NOT ro_not_false
FROM adv
WHERE is_mgmt;

-- Event sources a management selector skips: ExcludeManagementEventSources
-- (basic) or eventSource NotEquals (advanced).
CREATE VIEW v_mgmt_selector_exclusions AS
SELECT m.snapshot_id, m.trail_arn, m.doc_id, m.style, m.selector_index,
    x.event_source
FROM v_mgmt_selectors m
JOIN event_selector_excluded_sources x
    ON m.style = 'basic' AND x.doc_id = m.doc_id
    AND x.selector_index = m.selector_index
UNION ALL
SELECT m.snapshot_id, m.trail_arn, m.doc_id, m.style, m.selector_index, f.value
FROM v_mgmt_selectors m
JOIN advanced_field_selectors f
    ON m.style = 'advanced' AND f.doc_id = m.doc_id
    AND f.selector_index = m.selector_index
    AND f.field = 'eventSource' AND f.operator = 'NotEquals';

-- Data and network activity scopes: one row per (selector, resource type).
-- A scope is what one selector delivers; its terms (v_scope_terms) are the
-- resources it matches. category: Data | NetworkActivity. For network
-- activity the resource type is 'NetworkActivity' and the terms are event
-- sources. has_negative: NotEquals/NotStartsWith/NotEndsWith on the ARN or
-- source; has_filter: other narrowing fields (eventName, errorCode...)
-- that we do not reason about, so an overlap can only be "possible".
CREATE VIEW v_trail_scopes AS
WITH basic AS (
    SELECT d.snapshot_id, d.trail_arn, d.doc_id, e.selector_index,
        r.type AS resource_type,
        coalesce(e.read_write_type, 'All') AS rw
    FROM v_trail_documents d
    JOIN event_selectors e ON e.doc_id = d.doc_id
    JOIN data_resources r ON r.doc_id = e.doc_id
        AND r.selector_index = e.selector_index
    WHERE d.kind = 'event_selectors'
    GROUP BY d.snapshot_id, d.trail_arn, d.doc_id, e.selector_index, r.type
),
adv AS (
    SELECT d.snapshot_id, d.trail_arn, d.doc_id, a.selector_index,
        max(CASE WHEN f.field = 'eventCategory' AND f.operator = 'Equals'
                 AND f.value IN ('Data', 'NetworkActivity')
            THEN f.value END) AS category,
        max(f.field = 'readOnly' AND f.operator = 'Equals'
            AND f.value = 'true') AS ro_true,
        max(f.field = 'readOnly' AND f.operator = 'Equals'
            AND f.value = 'false') AS ro_false,
        max((f.field IN ('resources.ARN', 'eventSource')
             AND f.operator LIKE 'Not%')) AS has_negative,
        max(f.field NOT IN ('eventCategory', 'resources.type',
                            'resources.ARN', 'readOnly', 'eventSource')
            OR (f.field = 'eventSource' AND f.operator NOT IN
                ('Equals', 'NotEquals'))) AS has_filter
    FROM v_trail_documents d
    JOIN advanced_event_selectors a ON a.doc_id = d.doc_id
    JOIN advanced_field_selectors f
        ON f.doc_id = a.doc_id AND f.selector_index = a.selector_index
    WHERE d.kind = 'event_selectors'
    GROUP BY d.snapshot_id, d.trail_arn, d.doc_id, a.selector_index
)
SELECT snapshot_id, trail_arn, 'b' || doc_id || ':' || selector_index || ':'
        || resource_type AS scope_id,
    doc_id, 'basic' AS style, selector_index, 'Data' AS category,
    resource_type,
    (rw IN ('All', 'ReadOnly')) AS reads, (rw IN ('All', 'WriteOnly')) AS writes,
    0 AS has_negative, 0 AS has_filter
FROM basic
UNION ALL
SELECT a.snapshot_id, a.trail_arn,
    'a' || a.doc_id || ':' || a.selector_index || ':'
        || coalesce(t.value, 'NetworkActivity'),
    a.doc_id, 'advanced', a.selector_index, a.category,
    CASE WHEN a.category = 'NetworkActivity' THEN 'NetworkActivity'
         ELSE coalesce(t.value, '(any)') END,
    (CASE WHEN a.ro_true OR a.ro_false THEN a.ro_true ELSE 1 END),
    (CASE WHEN a.ro_true OR a.ro_false THEN a.ro_false ELSE 1 END),
    a.has_negative, a.has_filter
FROM adv a
LEFT JOIN advanced_field_selectors t
    ON a.category = 'Data' AND t.doc_id = a.doc_id
    AND t.selector_index = a.selector_index
    AND t.field = 'resources.type' AND t.operator = 'Equals'
WHERE a.category IS NOT NULL;

-- The positive terms of each scope. kind: all | prefix | equals | suffix.
-- Basic DataResources values are ARN prefixes; 'arn:aws:s3', 'arn:aws:s3:::'
-- and 'arn:aws:lambda' (no resource part) mean every resource of the type.
CREATE VIEW v_scope_terms AS
SELECT s.snapshot_id, s.trail_arn, s.scope_id,
    CASE
        WHEN length(r.value) - length(replace(r.value, ':', '')) <= 2
          OR r.value LIKE '%:::' THEN 'all'
        ELSE 'prefix'
    END AS kind,
    r.value
FROM v_trail_scopes s
JOIN data_resources r ON s.style = 'basic' AND r.doc_id = s.doc_id
    AND r.selector_index = s.selector_index AND r.type = s.resource_type
UNION ALL
SELECT s.snapshot_id, s.trail_arn, s.scope_id,
    CASE f.operator WHEN 'Equals' THEN 'equals' WHEN 'StartsWith' THEN 'prefix'
        ELSE 'suffix' END,
    f.value
FROM v_trail_scopes s
JOIN advanced_field_selectors f ON s.style = 'advanced'
    AND f.doc_id = s.doc_id AND f.selector_index = s.selector_index
    AND f.field = CASE s.category WHEN 'Data' THEN 'resources.ARN'
                                  ELSE 'eventSource' END
    AND f.operator IN ('Equals', 'StartsWith', 'EndsWith')
UNION ALL
SELECT s.snapshot_id, s.trail_arn, s.scope_id, 'all', NULL
FROM v_trail_scopes s
WHERE s.style = 'advanced'
  AND NOT EXISTS (
    SELECT 1 FROM advanced_field_selectors f
    WHERE f.doc_id = s.doc_id AND f.selector_index = s.selector_index
      AND f.field = CASE s.category WHEN 'Data' THEN 'resources.ARN'
                                    ELSE 'eventSource' END
      AND f.operator IN ('Equals', 'StartsWith', 'EndsWith'));

-- What each trail captures and whether it delivers. One row per trail.
--   logging: yes | no | unknown (no GetTrailStatus: counted as logging)
--   selectors: file | implied (HasCustomEventSelectors false: the default
--              selector, all management events) | unknown
--   mgmt_reads, mgmt_writes: 1, 0, or NULL when the selectors are unknown
--   excluded_sources: sources skipped by every management selector
CREATE VIEW v_trails AS
WITH es AS (
    SELECT snapshot_id, trail_arn, doc_id FROM v_trail_documents
    WHERE kind = 'event_selectors'
),
st AS (
    SELECT d.snapshot_id, d.trail_arn, s.is_logging
    FROM v_trail_documents d JOIN trail_status s ON s.doc_id = d.doc_id
    WHERE d.kind = 'trail_status'
),
ins AS (
    SELECT snapshot_id, trail_arn, doc_id FROM v_trail_documents
    WHERE kind = 'insight_selectors'
),
mg AS (
    SELECT snapshot_id, trail_arn, max(reads) AS reads, max(writes) AS writes,
        count(*) AS n_selectors
    FROM v_mgmt_selectors GROUP BY snapshot_id, trail_arn
),
kinds AS (
    SELECT snapshot_id, trail_arn,
        max(category = 'Data') AS has_data,
        max(category = 'NetworkActivity') AS has_network
    FROM v_trail_scopes GROUP BY snapshot_id, trail_arn
),
ins_n AS (
    SELECT d.snapshot_id, d.trail_arn, count(*) AS n
    FROM v_trail_documents d JOIN insight_selectors i ON i.doc_id = d.doc_id
    WHERE d.kind = 'insight_selectors'
    GROUP BY d.snapshot_id, d.trail_arn
),
-- group_concat follows the order of its input (SQLite 3.40 has no ORDER BY
-- inside aggregates): every list is built from a subquery ordered by the
-- group keys and the value, with nothing joined after the ordering.
ex AS (
    SELECT snapshot_id, trail_arn, group_concat(event_source, ', ') AS sources
    FROM (
        SELECT x.snapshot_id, x.trail_arn, x.event_source
        FROM (
            SELECT snapshot_id, trail_arn, event_source,
                count(DISTINCT style || ':' || selector_index) AS n
            FROM v_mgmt_selector_exclusions
            GROUP BY snapshot_id, trail_arn, event_source
        ) x
        JOIN mg ON mg.snapshot_id = x.snapshot_id
            AND mg.trail_arn = x.trail_arn
        WHERE x.n = mg.n_selectors
        ORDER BY x.snapshot_id, x.trail_arn, x.event_source
    )
    GROUP BY snapshot_id, trail_arn
)
SELECT t.snapshot_id, t.trail_arn, t.name, t.owner_account_id, t.home_region,
    t.partition,
    coalesce(t.is_multi_region, 0) AS is_multi_region,
    coalesce(t.is_organization_trail, 0) AS is_organization_trail,
    coalesce(t.include_global_service_events, 1) AS include_global_events,
    CASE st.is_logging WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE 'unknown' END
        AS logging,
    (coalesce(st.is_logging, 1) = 1) AS delivers,
    CASE
        WHEN es.doc_id IS NOT NULL THEN 'file'
        WHEN t.has_custom_event_selectors = 0 THEN 'implied'
        ELSE 'unknown'
    END AS selectors,
    CASE
        WHEN es.doc_id IS NOT NULL THEN coalesce(mg.reads, 0)
        WHEN t.has_custom_event_selectors = 0 THEN 1
    END AS mgmt_reads,
    CASE
        WHEN es.doc_id IS NOT NULL THEN coalesce(mg.writes, 0)
        WHEN t.has_custom_event_selectors = 0 THEN 1
    END AS mgmt_writes,
    ex.sources AS excluded_sources,
    CASE
        WHEN ins.doc_id IS NOT NULL THEN 'file'
        WHEN t.has_insight_selectors = 0 THEN 'implied'
        ELSE 'unknown'
    END AS insights_source,
    CASE
        WHEN ins.doc_id IS NOT NULL THEN coalesce(ins_n.n, 0) > 0
        WHEN t.has_insight_selectors = 0 THEN 0
    END AS has_insights,
    CASE
        WHEN ins.doc_id IS NOT NULL THEN coalesce(ins_n.n, 0)
        WHEN t.has_insight_selectors = 0 THEN 0
    END AS insight_types,
    CASE
        WHEN es.doc_id IS NOT NULL THEN coalesce(kinds.has_data, 0)
        WHEN t.has_custom_event_selectors = 0 THEN 0
    END AS has_data,
    CASE
        WHEN es.doc_id IS NOT NULL THEN coalesce(kinds.has_network, 0)
        WHEN t.has_custom_event_selectors = 0 THEN 0
    END AS has_network
FROM trails t
LEFT JOIN es ON es.snapshot_id = t.snapshot_id AND es.trail_arn = t.trail_arn
LEFT JOIN st ON st.snapshot_id = t.snapshot_id AND st.trail_arn = t.trail_arn
LEFT JOIN ins ON ins.snapshot_id = t.snapshot_id AND ins.trail_arn = t.trail_arn
LEFT JOIN mg ON mg.snapshot_id = t.snapshot_id AND mg.trail_arn = t.trail_arn
LEFT JOIN ex ON ex.snapshot_id = t.snapshot_id AND ex.trail_arn = t.trail_arn
LEFT JOIN kinds ON kinds.snapshot_id = t.snapshot_id
    AND kinds.trail_arn = t.trail_arn
LEFT JOIN ins_n ON ins_n.snapshot_id = t.snapshot_id
    AND ins_n.trail_arn = t.trail_arn;

-- Pairs of scopes of different trails that can capture the same events:
-- same category and resource type, overlapping read/write, and overlapping
-- resources. overlap: 2 = the scopes overlap, 1 = possible overlap (cannot
-- be decided: suffix matches, exclusions, other filters). Only trails that
-- can cover the same account are paired: the same owner, or one of them an
-- organization trail.
CREATE VIEW v_scope_overlaps AS
WITH cotrails AS (
    SELECT a.snapshot_id, a.trail_arn AS trail_a, b.trail_arn AS trail_b
    FROM trails a
    JOIN trails b ON b.snapshot_id = a.snapshot_id
        AND b.owner_account_id = a.owner_account_id
        AND a.trail_arn < b.trail_arn
    UNION
    SELECT a.snapshot_id, min(a.trail_arn, b.trail_arn),
        max(a.trail_arn, b.trail_arn)
    FROM trails a
    JOIN trails b ON b.snapshot_id = a.snapshot_id
        AND b.trail_arn <> a.trail_arn
    WHERE a.is_organization_trail = 1
),
pairs AS (
    SELECT a.snapshot_id, a.trail_arn AS trail_a, b.trail_arn AS trail_b,
        a.scope_id AS scope_a, b.scope_id AS scope_b, a.category,
        a.resource_type,
        (a.has_negative OR b.has_negative OR a.has_filter OR b.has_filter
         OR a.resource_type = '(any)' OR b.resource_type = '(any)')
            AS uncertain
    FROM cotrails p
    JOIN v_trail_scopes a ON a.snapshot_id = p.snapshot_id
        AND a.trail_arn = p.trail_a
    JOIN v_trail_scopes b ON b.snapshot_id = p.snapshot_id
        AND b.trail_arn = p.trail_b
        AND b.category = a.category
        AND (b.resource_type = a.resource_type
             OR a.resource_type = '(any)' OR b.resource_type = '(any)')
        AND ((a.reads AND b.reads) OR (a.writes AND b.writes))
),
terms AS (
    SELECT p.snapshot_id, p.trail_a, p.trail_b, p.category, p.resource_type,
        p.uncertain,
        max(CASE
            WHEN ta.kind = 'all' OR tb.kind = 'all' THEN 2
            WHEN ta.kind = 'suffix' OR tb.kind = 'suffix' THEN 1
            WHEN ta.kind = 'equals' AND tb.kind = 'equals'
                THEN 2 * (ta.value = tb.value)
            WHEN ta.kind = 'prefix' AND tb.kind = 'prefix'
                THEN 2 * (substr(ta.value, 1, length(tb.value)) = tb.value
                          OR substr(tb.value, 1, length(ta.value)) = ta.value)
            WHEN ta.kind = 'prefix'
                THEN 2 * (substr(tb.value, 1, length(ta.value)) = ta.value)
            ELSE 2 * (substr(ta.value, 1, length(tb.value)) = tb.value)
        END) AS overlap
    FROM pairs p
    JOIN v_scope_terms ta ON ta.snapshot_id = p.snapshot_id
        AND ta.scope_id = p.scope_a AND ta.trail_arn = p.trail_a
    JOIN v_scope_terms tb ON tb.snapshot_id = p.snapshot_id
        AND tb.scope_id = p.scope_b AND tb.trail_arn = p.trail_b
    GROUP BY p.snapshot_id, p.trail_a, p.trail_b, p.scope_a, p.scope_b
)
SELECT snapshot_id, trail_a, trail_b, category, resource_type,
    max(CASE WHEN overlap = 2 AND uncertain THEN 1 ELSE overlap END)
        AS overlap
FROM terms
GROUP BY snapshot_id, trail_a, trail_b, category, resource_type
HAVING max(overlap) > 0;

-- Insights per trail and type, with the events each type analyzes.
CREATE VIEW v_trail_insights AS
SELECT d.snapshot_id, d.trail_arn, i.insight_type, i.event_categories,
    CASE i.insight_type
        WHEN 'ApiCallRateInsight' THEN 'write management events'
        ELSE 'read and write management events'
    END
    || CASE WHEN i.event_categories LIKE '%Data%'
            THEN ' and data events' ELSE '' END AS analyzes
FROM v_trail_documents d
JOIN insight_selectors i ON i.doc_id = d.doc_id
WHERE d.kind = 'insight_selectors';

-- Which trails deliver events that originate in (account, region):
-- the account's own multi-region trails (every region of the account in the
-- trail's partition), its single-region trails (their home region), and
-- every organization trail of the snapshot's organization, for every
-- account, whether or not the account's DescribeTrails listing showed it.
CREATE VIEW v_coverage AS
SELECT c.snapshot_id, c.account_id, c.region, c.trail_arn, c.via,
    EXISTS (SELECT 1 FROM trail_sightings s
            WHERE s.snapshot_id = c.snapshot_id
              AND s.account_id = c.account_id AND s.region = c.region
              AND s.trail_arn = c.trail_arn) AS listed
FROM (
    SELECT snapshot_id, account_id, region, trail_arn, 'own' AS via
    FROM v_own_coverage
    UNION ALL
    SELECT ar.snapshot_id, ar.account_id, ar.region, o.trail_arn,
        'organization'
    FROM v_account_regions ar
    JOIN v_organization_trail_regions o ON o.snapshot_id = ar.snapshot_id
        AND o.region = ar.region
) c;

-- Management event copies per (account, region), counted separately for
-- read and write events: the free copy is the first, every other is paid.
-- Only trails that deliver count (logging, or logging state unknown).
-- These are sums over v_coverage's rows, taken in its two parts: the
-- account's own trails per (account, region), the organization trails
-- once per region.
CREATE VIEW v_region_mgmt AS
WITH own AS (
    SELECT c.snapshot_id, c.account_id, c.region,
        count(c.trail_arn) AS trails,
        sum(t.delivers AND t.mgmt_reads = 1) AS read_copies,
        sum(t.delivers AND t.mgmt_writes = 1) AS write_copies,
        sum(t.delivers AND t.selectors = 'unknown') AS unknown_trails,
        sum(t.logging = 'unknown') AS unknown_logging,
        sum(t.delivers) AS active_trails,
        sum(t.delivers AND t.has_data = 1) AS data_trails,
        sum(t.delivers AND t.has_network = 1) AS network_trails,
        sum(CASE WHEN t.delivers THEN t.insight_types END) AS insight_types
    FROM v_own_coverage c
    LEFT JOIN v_trails t ON t.snapshot_id = c.snapshot_id
        AND t.trail_arn = c.trail_arn
    GROUP BY c.snapshot_id, c.account_id, c.region
),
org AS (
    SELECT c.snapshot_id, c.region,
        count(c.trail_arn) AS trails,
        sum(t.delivers AND t.mgmt_reads = 1) AS read_copies,
        sum(t.delivers AND t.mgmt_writes = 1) AS write_copies,
        sum(t.delivers AND t.selectors = 'unknown') AS unknown_trails,
        sum(t.logging = 'unknown') AS unknown_logging,
        sum(t.delivers) AS active_trails,
        sum(t.delivers AND t.has_data = 1) AS data_trails,
        sum(t.delivers AND t.has_network = 1) AS network_trails,
        sum(CASE WHEN t.delivers THEN t.insight_types END) AS insight_types
    FROM v_organization_trail_regions c
    LEFT JOIN v_trails t ON t.snapshot_id = c.snapshot_id
        AND t.trail_arn = c.trail_arn
    GROUP BY c.snapshot_id, c.region
)
SELECT ar.snapshot_id, ar.account_id, ar.region, ar.scan_state,
    coalesce(own.read_copies, 0) + coalesce(org.read_copies, 0)
        AS read_copies,
    coalesce(own.write_copies, 0) + coalesce(org.write_copies, 0)
        AS write_copies,
    coalesce(own.unknown_trails, 0) + coalesce(org.unknown_trails, 0)
        AS unknown_trails,
    coalesce(own.unknown_logging, 0) + coalesce(org.unknown_logging, 0)
        AS unknown_logging,
    coalesce(own.trails, 0) + coalesce(org.trails, 0)
        AS trails,
    coalesce(own.active_trails, 0) + coalesce(org.active_trails, 0)
        AS active_trails,
    coalesce(own.data_trails, 0) + coalesce(org.data_trails, 0)
        AS data_trails,
    coalesce(own.network_trails, 0) + coalesce(org.network_trails, 0)
        AS network_trails,
    coalesce(own.insight_types, 0) + coalesce(org.insight_types, 0)
        AS insight_types
FROM v_account_regions ar
LEFT JOIN own ON own.snapshot_id = ar.snapshot_id
    AND own.account_id = ar.account_id AND own.region = ar.region
LEFT JOIN org ON org.snapshot_id = ar.snapshot_id AND org.region = ar.region;

-- Global service events (IAM, STS, CloudFront) are recorded in the
-- partition's global region (us-east-1): copies per account, reads and
-- writes counted apart like every management event. The coverage rows are
-- read in v_coverage's two parts, like v_region_mgmt does, so that this
-- view need not wait for v_coverage.
CREATE VIEW v_global_events AS
SELECT snapshot_id, account_id, region,
    count(DISTINCT CASE WHEN mgmt_reads = 1 THEN trail_arn END)
        AS read_copies,
    count(DISTINCT CASE WHEN mgmt_writes = 1 THEN trail_arn END)
        AS write_copies,
    group_concat(trail_arn, ' ') AS trail_arns
FROM (
    SELECT c.snapshot_id, c.account_id, c.region, c.trail_arn,
        t.mgmt_reads, t.mgmt_writes
    FROM (
        -- CROSS JOIN: from the few global regions to their coverage
        -- rows, rather than every coverage row to its region (SQLite
        -- cannot estimate region = global_region)
        SELECT ar.snapshot_id, ar.account_id, ar.region, oc.trail_arn
        FROM v_account_regions ar
        CROSS JOIN v_own_coverage oc ON oc.snapshot_id = ar.snapshot_id
            AND oc.account_id = ar.account_id AND oc.region = ar.region
        WHERE ar.region = ar.global_region
        UNION ALL
        SELECT ar.snapshot_id, ar.account_id, ar.region, o.trail_arn
        FROM v_account_regions ar
        CROSS JOIN v_organization_trail_regions o
            ON o.snapshot_id = ar.snapshot_id AND o.region = ar.region
        WHERE ar.region = ar.global_region
    ) c
    JOIN v_trails t ON t.snapshot_id = c.snapshot_id
        AND t.trail_arn = c.trail_arn
    WHERE t.delivers AND t.include_global_events = 1
      AND (t.mgmt_reads = 1 OR t.mgmt_writes = 1)
    ORDER BY c.snapshot_id, c.account_id, c.region, c.trail_arn
)
GROUP BY snapshot_id, account_id, region;

-- Billing volumes and costs per month: the Cost Explorer rows of each
-- snapshot (organization/cost-and-usage*.json), averaged over the months
-- they cover. Rows whose account or region is unknown are left out here.
CREATE VIEW v_usage_monthly AS
WITH m AS (
    SELECT snapshot_id, count(DISTINCT period_start) AS months
    FROM cost_usage
    GROUP BY snapshot_id
)
SELECT u.snapshot_id, u.account_id, u.region, u.usage_kind,
    min(u.currency) AS currency, m.months,
    sum(u.quantity) / m.months AS quantity,
    sum(u.cost) / m.months AS cost
FROM cost_usage u
JOIN m ON m.snapshot_id = u.snapshot_id
WHERE u.account_id IS NOT NULL AND u.region IS NOT NULL
GROUP BY u.snapshot_id, u.account_id, u.region, u.usage_kind;

-- What each (account, region) costs per month beyond the free copy, and
-- what one more (or one fewer) management copy costs there.
--   basis: billing (the snapshot holds Cost Explorer data: its costs are
--          used as they are), estimate (volumes from --events-per-month or
--          --volumes, priced with `pricing`), or NULL (unknown).
--   mgmt_copy_monthly: one paid management copy: the paid cost divided
--          among the paid copies, or, with no paid copy, the free copy's
--          volume at the management_copy price.
--   paid_mgmt_monthly, data_monthly, network_monthly, insights_monthly:
--          the charges; NULL when the basis cannot tell.
--   data_trails, network_trails, insight_types: how many delivering trails
--          (Insights: trail x type pairs) share those charges.
CREATE VIEW v_region_costs AS
WITH billed AS (
    SELECT snapshot_id, min(currency) AS currency, max(period_end) AS through
    FROM cost_usage
    GROUP BY snapshot_id
),
u AS (
    SELECT snapshot_id, account_id, region,
        sum(CASE WHEN usage_kind = 'free_events' THEN quantity END)
            AS free_events,
        sum(CASE WHEN usage_kind = 'paid_events' THEN quantity END)
            AS paid_events,
        sum(CASE WHEN usage_kind = 'paid_events' THEN cost END) AS paid_cost,
        sum(CASE WHEN usage_kind = 'data_events' THEN cost END) AS data_cost,
        sum(CASE WHEN usage_kind = 'network_events' THEN cost END)
            AS network_cost,
        sum(CASE WHEN usage_kind IN ('insights_events',
                                     'data_insights_events')
                 THEN cost END) AS insights_cost
    FROM v_usage_monthly
    GROUP BY snapshot_id, account_id, region
),
r AS (
    SELECT m.snapshot_id, m.account_id, m.region, ar.partition,
        max(m.read_copies, m.write_copies) AS copies,
        m.data_trails, m.network_trails, m.insight_types,
        b.snapshot_id IS NOT NULL AS billed, b.currency AS bill_currency,
        CASE WHEN (SELECT count(*) FROM volume_estimates) > 0 THEN
            (SELECT v.management_events FROM volume_estimates v
             WHERE (v.account_id = m.account_id OR v.account_id IS NULL)
               AND (v.region = m.region OR v.region IS NULL)
               AND v.management_events IS NOT NULL
             ORDER BY v.account_id IS NULL, v.region IS NULL LIMIT 1)
        END AS est_mgmt,
        CASE WHEN (SELECT count(*) FROM volume_estimates) > 0 THEN
            (SELECT v.data_events FROM volume_estimates v
             WHERE (v.account_id = m.account_id OR v.account_id IS NULL)
               AND (v.region = m.region OR v.region IS NULL)
               AND v.data_events IS NOT NULL
             ORDER BY v.account_id IS NULL, v.region IS NULL LIMIT 1)
        END AS est_data,
        CASE WHEN (SELECT count(*) FROM volume_estimates) > 0 THEN
            (SELECT v.network_events FROM volume_estimates v
             WHERE (v.account_id = m.account_id OR v.account_id IS NULL)
               AND (v.region = m.region OR v.region IS NULL)
               AND v.network_events IS NOT NULL
             ORDER BY v.account_id IS NULL, v.region IS NULL LIMIT 1)
        END AS est_network
    FROM v_region_mgmt m
    JOIN v_regions ar ON ar.snapshot_id = m.snapshot_id
        AND ar.region = m.region
    LEFT JOIN billed b ON b.snapshot_id = m.snapshot_id
),
-- the prices of each partition in one row: one lookup per region
p AS (
    SELECT partition,
        max(CASE WHEN item = 'management_copy' THEN price * 1.0 / per END)
            AS p_mgmt,
        max(CASE WHEN item = 'management_copy' THEN currency END)
            AS p_currency,
        max(CASE WHEN item = 'data_event' THEN price * 1.0 / per END)
            AS p_data,
        max(CASE WHEN item = 'network_activity_event'
                 THEN price * 1.0 / per END) AS p_network
    FROM pricing
    GROUP BY partition
),
priced AS (
    SELECT r.*, u.free_events, u.paid_events, u.paid_cost, u.data_cost,
        u.network_cost, u.insights_cost,
        p.p_mgmt, p.p_currency, p.p_data, p.p_network
    FROM r
    LEFT JOIN u ON u.snapshot_id = r.snapshot_id
        AND u.account_id = r.account_id AND u.region = r.region
    LEFT JOIN p ON p.partition = r.partition
)
SELECT snapshot_id, account_id, region,
    CASE
        WHEN billed THEN 'billing'
        WHEN p_mgmt IS NOT NULL
             AND (est_mgmt IS NOT NULL OR est_data IS NOT NULL
                  OR est_network IS NOT NULL) THEN 'estimate'
    END AS basis,
    CASE WHEN billed THEN bill_currency ELSE p_currency END AS currency,
    CASE
        WHEN billed AND copies > 1 AND coalesce(paid_cost, 0) > 0
            THEN paid_cost / (copies - 1)
        WHEN billed THEN coalesce(free_events, 0) * p_mgmt
        ELSE est_mgmt * p_mgmt
    END AS mgmt_copy_monthly,
    CASE
        WHEN billed THEN coalesce(paid_cost, 0)
        WHEN copies <= 1 THEN CASE WHEN p_mgmt IS NOT NULL
                                        AND est_mgmt IS NOT NULL THEN 0 END
        ELSE (copies - 1) * est_mgmt * p_mgmt
    END AS paid_mgmt_monthly,
    CASE WHEN billed THEN paid_events
         WHEN copies > 1 THEN (copies - 1) * est_mgmt
         WHEN est_mgmt IS NOT NULL THEN 0 END AS paid_events_monthly,
    CASE
        WHEN billed THEN coalesce(data_cost, 0)
        WHEN data_trails = 0 THEN 0
        ELSE data_trails * est_data * p_data
    END AS data_monthly,
    CASE
        WHEN billed THEN coalesce(network_cost, 0)
        WHEN network_trails = 0 THEN 0
        ELSE network_trails * est_network * p_network
    END AS network_monthly,
    CASE
        WHEN billed THEN coalesce(insights_cost, 0)
        WHEN insight_types = 0 THEN 0
    END AS insights_monthly,
    copies, data_trails, network_trails, insight_types
FROM priced;

-- The snapshots whose costs are known somewhere: Cost Explorer data in the
-- snapshot (every region's basis is billing), or volume estimates that
-- price at least one of its regions. The rules look their monthly_cost up
-- only for these. Read without computing v_region_costs when the database
-- holds neither billing data nor estimates (then no region has a basis).
CREATE VIEW v_cost_basis AS
SELECT s.snapshot_id
FROM snapshots s
WHERE EXISTS (SELECT 1 FROM cost_usage u WHERE u.snapshot_id = s.snapshot_id)
   OR (EXISTS (SELECT 1 FROM volume_estimates)
       AND EXISTS (SELECT 1 FROM v_region_costs k
                   WHERE k.snapshot_id = s.snapshot_id
                     AND k.basis IS NOT NULL));

-- The share of the data, network activity and Insights charges of an
-- (account, region) that each delivering trail causes: even shares among
-- the trails that deliver them there (Cost Explorer does not split a
-- region's usage by trail), Insights by number of types.
CREATE VIEW v_trail_region_costs AS
SELECT c.snapshot_id, c.account_id, c.region, c.trail_arn, rc.basis,
    rc.currency,
    CASE WHEN t.has_data = 1 THEN rc.data_monthly / rc.data_trails
         ELSE 0 END AS data_monthly,
    CASE WHEN t.has_network = 1 THEN rc.network_monthly / rc.network_trails
         ELSE 0 END AS network_monthly,
    CASE WHEN t.has_insights = 1 THEN
            rc.insights_monthly * t.insight_types / rc.insight_types
         ELSE 0 END AS insights_monthly
FROM v_trails t
JOIN v_coverage c ON c.snapshot_id = t.snapshot_id
    AND c.trail_arn = t.trail_arn
JOIN v_region_costs rc ON rc.snapshot_id = c.snapshot_id
    AND rc.account_id = c.account_id AND rc.region = c.region
WHERE t.delivers
  AND (t.has_data = 1 OR t.has_network = 1 OR t.has_insights = 1);
