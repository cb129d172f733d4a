-- ctaudit database schema. Documented column by column in schema/README.md.
-- Tables hold what the snapshot says, raw and normalized (one row per value);
-- views (schema/views.sql) derive what it means. Every row carries its
-- snapshot_id so that several snapshots (before/after) share one database.
PRAGMA user_version = 2;

CREATE TABLE snapshots (
    snapshot_id        INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,   -- path given on the command line
    label              TEXT NOT NULL,   -- base name of source
    has_manifest       INTEGER NOT NULL,
    verified           INTEGER NOT NULL, -- 1: every member matched the manifest
    format_version     INTEGER,
    collector_name     TEXT,
    collector_version  TEXT,
    started_at         TEXT,
    ended_at           TEXT,
    complete           INTEGER,         -- NULL: unknown (hand-made dump)
    partition          TEXT,
    caller_account_id  TEXT,
    caller_arn         TEXT,
    options_json       TEXT,
    not_collected_json TEXT,
    checksums_sha256   TEXT,            -- manifest's hash of SHA256SUMS
    members            INTEGER NOT NULL DEFAULT 0,
    bytes              INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE load_warnings (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots,
    member      TEXT NOT NULL,
    message     TEXT NOT NULL
);

CREATE TABLE organizations (
    snapshot_id          INTEGER NOT NULL REFERENCES snapshots,
    organization_id      TEXT,
    arn                  TEXT,
    master_account_id    TEXT,
    master_account_email TEXT,
    feature_set          TEXT,
    PRIMARY KEY (snapshot_id)
);

-- One row per account known to the snapshot: from list-accounts.json, from an
-- accounts/<id>/ folder, or both.
CREATE TABLE accounts (
    snapshot_id      INTEGER NOT NULL REFERENCES snapshots,
    account_id       TEXT NOT NULL,
    name             TEXT,            -- list-accounts Name
    email            TEXT,
    arn              TEXT,
    org_status       TEXT,            -- list-accounts Status (ACTIVE, SUSPENDED...)
    joined_method    TEXT,
    joined_at        TEXT,
    alias            TEXT,            -- first of list-account-aliases
    identity_arn     TEXT,            -- get-caller-identity Arn
    identity_user_id TEXT,
    in_org_listing   INTEGER NOT NULL DEFAULT 0,
    listing_index    INTEGER,         -- position in list-accounts.json
    has_folder       INTEGER NOT NULL DEFAULT 0,
    has_regions_file INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (snapshot_id, account_id)
) WITHOUT ROWID;

CREATE TABLE account_regions (
    snapshot_id   INTEGER NOT NULL REFERENCES snapshots,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    enabled       INTEGER NOT NULL,
    opt_in_status TEXT,
    endpoint      TEXT,
    PRIMARY KEY (snapshot_id, account_id, region)
) WITHOUT ROWID;

-- Regions for which a describe-trails.json was loaded.
CREATE TABLE region_scans (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    trail_count INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, account_id, region)
) WITHOUT ROWID;

-- One row per TrailARN per snapshot, every DescribeTrails field. When the
-- same ARN is listed with different configurations, the owner's listing in
-- the home region is kept (else the smallest account, region) and
-- load_warnings says so.
CREATE TABLE trails (
    snapshot_id                    INTEGER NOT NULL REFERENCES snapshots,
    trail_arn                      TEXT NOT NULL,
    name                           TEXT NOT NULL,
    owner_account_id               TEXT NOT NULL,
    home_region                    TEXT NOT NULL,
    partition                      TEXT NOT NULL,
    is_multi_region                INTEGER,
    is_organization_trail          INTEGER,
    include_global_service_events  INTEGER,
    s3_bucket_name                 TEXT,
    s3_key_prefix                  TEXT,
    sns_topic_name                 TEXT,
    sns_topic_arn                  TEXT,
    cloud_watch_logs_log_group_arn TEXT,
    cloud_watch_logs_role_arn      TEXT,
    kms_key_id                     TEXT,
    log_file_validation_enabled    INTEGER,
    has_custom_event_selectors     INTEGER,
    has_insight_selectors          INTEGER,
    config_sha256                  TEXT NOT NULL, -- fingerprint of the configuration
    listed_by_account_id           TEXT NOT NULL,
    listed_in_region               TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, trail_arn)
) WITHOUT ROWID;

CREATE INDEX trails_by_owner ON trails (snapshot_id, owner_account_id);

-- Where DescribeTrails showed a trail: one row per (account, region, trail).
CREATE TABLE trail_sightings (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    trail_arn   TEXT NOT NULL,
    is_shadow   INTEGER NOT NULL, -- region differs from the trail's home region
    PRIMARY KEY (snapshot_id, account_id, region, trail_arn)
) WITHOUT ROWID;
-- (no index by trail: every lookup gives all four key columns)

-- A per-trail response file (selectors, insights, status) and who fetched it.
-- The same trail may be fetched by several accounts (an organization trail
-- read from members); views prefer the owner's copy.
CREATE TABLE trail_documents (
    doc_id      INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots,
    trail_arn   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('event_selectors', 'insight_selectors', 'trail_status')),
    owner_account_id TEXT NOT NULL, -- from the member path
    account_id  TEXT NOT NULL,   -- the account whose credentials fetched it
    region      TEXT NOT NULL,
    member      TEXT NOT NULL,
    UNIQUE (snapshot_id, trail_arn, kind, account_id)
);

CREATE TABLE trail_status (
    doc_id                                INTEGER PRIMARY KEY REFERENCES trail_documents,
    snapshot_id                           INTEGER NOT NULL,
    trail_arn                             TEXT NOT NULL,
    is_logging                            INTEGER,
    latest_delivery_error                 TEXT,
    latest_notification_error             TEXT,
    latest_delivery_time                  TEXT,
    latest_notification_time              TEXT,
    start_logging_time                    TEXT,
    stop_logging_time                     TEXT,
    latest_cloud_watch_logs_delivery_error TEXT,
    latest_cloud_watch_logs_delivery_time TEXT,
    latest_digest_delivery_time           TEXT,
    latest_digest_delivery_error          TEXT,
    latest_delivery_attempt_time          TEXT,
    latest_notification_attempt_time      TEXT,
    latest_notification_attempt_succeeded TEXT,
    latest_delivery_attempt_succeeded     TEXT,
    time_logging_started                  TEXT,
    time_logging_stopped                  TEXT
);

CREATE TABLE event_selectors (
    doc_id                    INTEGER NOT NULL REFERENCES trail_documents,
    selector_index            INTEGER NOT NULL,
    snapshot_id               INTEGER NOT NULL,
    trail_arn                 TEXT NOT NULL,
    read_write_type           TEXT,     -- All, ReadOnly, WriteOnly (NULL: All)
    include_management_events INTEGER,  -- NULL: true (the API default)
    PRIMARY KEY (doc_id, selector_index)
) WITHOUT ROWID;

CREATE TABLE event_selector_excluded_sources (
    doc_id         INTEGER NOT NULL REFERENCES trail_documents,
    selector_index INTEGER NOT NULL,
    event_source   TEXT NOT NULL,
    PRIMARY KEY (doc_id, selector_index, event_source)
) WITHOUT ROWID;

-- Basic DataResources: one row per value (an ARN prefix).
CREATE TABLE data_resources (
    doc_id         INTEGER NOT NULL REFERENCES trail_documents,
    selector_index INTEGER NOT NULL,
    resource_index INTEGER NOT NULL,
    type           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (doc_id, selector_index, resource_index, value)
) WITHOUT ROWID;

CREATE TABLE advanced_event_selectors (
    doc_id         INTEGER NOT NULL REFERENCES trail_documents,
    selector_index INTEGER NOT NULL,
    snapshot_id    INTEGER NOT NULL,
    trail_arn      TEXT NOT NULL,
    name           TEXT,
    PRIMARY KEY (doc_id, selector_index)
) WITHOUT ROWID;

-- Advanced field selectors: one row per (field, operator, value).
CREATE TABLE advanced_field_selectors (
    doc_id         INTEGER NOT NULL REFERENCES trail_documents,
    selector_index INTEGER NOT NULL,
    field          TEXT NOT NULL,
    operator       TEXT NOT NULL CHECK (operator IN ('Equals', 'NotEquals', 'StartsWith', 'NotStartsWith', 'EndsWith', 'NotEndsWith')),
    value          TEXT NOT NULL,
    PRIMARY KEY (doc_id, selector_index, field, operator, value)
) WITHOUT ROWID;

CREATE TABLE insight_selectors (
    doc_id           INTEGER NOT NULL REFERENCES trail_documents,
    insight_type     TEXT NOT NULL,   -- ApiCallRateInsight, ApiErrorRateInsight
    event_categories TEXT NOT NULL,   -- sorted, comma-separated; "Management" when absent
    PRIMARY KEY (doc_id, insight_type)
) WITHOUT ROWID;

-- Errors recorded instead of responses, and accounts that were not scanned.
CREATE TABLE errors (
    snapshot_id     INTEGER NOT NULL REFERENCES snapshots,
    scope           TEXT NOT NULL CHECK (scope IN ('organization', 'account', 'account_operation', 'region')),
    account_id      TEXT,
    region          TEXT,
    operation       TEXT,
    trail_owner     TEXT,
    trail_name      TEXT,
    code            TEXT,
    message         TEXT,
    probable_causes TEXT,   -- ProbableCauses joined with '; ', when given
    member          TEXT NOT NULL
);
CREATE INDEX errors_by_account ON errors (snapshot_id, account_id, region);

-- Cost Explorer GetCostAndUsage responses (organization/cost-and-usage*.json,
-- SERVICE = AWS CloudTrail, grouped by LINKED_ACCOUNT and USAGE_TYPE):
-- one row per (member, time period, group).
CREATE TABLE cost_usage (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots,
    member       TEXT NOT NULL,   -- the file the row came from
    period_start TEXT NOT NULL,   -- YYYY-MM-DD, inclusive
    period_end   TEXT NOT NULL,   -- YYYY-MM-DD, exclusive
    estimated    INTEGER,         -- Cost Explorer's Estimated flag
    account_id   TEXT,            -- LINKED_ACCOUNT key
    usage_type   TEXT NOT NULL,   -- USAGE_TYPE key, e.g. USE1-PaidEventsRecorded
    region       TEXT,            -- from the prefix (usage_type_regions); NULL: unknown prefix
    usage_kind   TEXT NOT NULL CHECK (usage_kind IN ('free_events', 'paid_events', 'data_events', 'network_events', 'insights_events', 'data_insights_events', 'lake', 'other')),
    quantity     REAL,            -- UsageQuantity Amount (events for *EventsRecorded)
    cost         REAL,            -- UnblendedCost Amount
    currency     TEXT             -- UnblendedCost Unit (USD, CNY)
);
CREATE INDEX cost_usage_by_region ON cost_usage (snapshot_id, account_id, region);

-- The region named by a usage type prefix (USE1- us-east-1, EU- eu-west-1,
-- ...). A usage type without a prefix is us-east-1's.
CREATE TABLE usage_type_regions (
    prefix TEXT PRIMARY KEY,      -- without the trailing '-'
    region TEXT NOT NULL
) WITHOUT ROWID;

-- Unit prices (schema/pricing.sql, or --pricing FILE): price per `per`
-- units of `item` in a partition.
--   item: management_copy | data_event | network_activity_event |
--         insights_management | insights_data
CREATE TABLE pricing (
    partition  TEXT NOT NULL,
    item       TEXT NOT NULL,
    price      REAL NOT NULL CHECK (price >= 0),
    per        INTEGER NOT NULL CHECK (per > 0),
    currency   TEXT NOT NULL,
    unit       TEXT NOT NULL,     -- what is counted, in words
    source_url TEXT NOT NULL,
    as_of      TEXT NOT NULL,     -- YYYY-MM-DD the price was read
    PRIMARY KEY (partition, item)
) WITHOUT ROWID;

-- Monthly event volumes given on the command line (report, plan and diff:
-- --events-per-month N, --volumes FILE.csv) for estimates without billing
-- data. Empty in a stored database. account_id or region NULL: every
-- account or region without a more specific row.
CREATE TABLE volume_estimates (
    account_id        TEXT,
    region            TEXT,
    management_events REAL,       -- per month, one copy
    data_events       REAL,       -- per month, one trail's copy
    network_events    REAL        -- per month, one trail's copy
);

-- The region prefixes of usage types, from AWS's "AWS Region billing codes"
-- (docs.aws.amazon.com/global-infrastructure/latest/regions/
-- aws-region-billing-codes.html: North America, Africa, Asia Pacific, Europe,
-- Middle East, South America) plus the China (CNN1, CNW1) and GovCloud (UGW1,
-- UGE1) codes of the billing reports of those partitions. EUW1 is an alias
-- of EU seen in some usage types. Loading applies the map (analyzer/load.c):
-- a usage type without a known prefix whose name is a CloudTrail usage type
-- (PaidEventsRecorded, ...) is us-east-1's.
INSERT INTO usage_type_regions (prefix, region) VALUES
    ('USE1', 'us-east-1'),
    ('USE2', 'us-east-2'),
    ('USW1', 'us-west-1'),
    ('USW2', 'us-west-2'),
    ('CAN1', 'ca-central-1'),
    ('CAN2', 'ca-west-1'),
    ('MXC1', 'mx-central-1'),
    ('AFS1', 'af-south-1'),
    ('APE1', 'ap-east-1'),
    ('APE2', 'ap-east-2'),
    ('APN1', 'ap-northeast-1'),
    ('APN2', 'ap-northeast-2'),
    ('APN3', 'ap-northeast-3'),
    ('APS1', 'ap-southeast-1'),
    ('APS2', 'ap-southeast-2'),
    ('APS3', 'ap-south-1'),
    ('APS4', 'ap-southeast-3'),
    ('APS5', 'ap-south-2'),
    ('APS6', 'ap-southeast-4'),
    ('APS7', 'ap-southeast-5'),
    ('APS8', 'ap-southeast-6'),
    ('APS9', 'ap-southeast-7'),
    ('EU', 'eu-west-1'),
    ('EUW1', 'eu-west-1'),
    ('EUW2', 'eu-west-2'),
    ('EUW3', 'eu-west-3'),
    ('EUC1', 'eu-central-1'),
    ('EUC2', 'eu-central-2'),
    ('EUN1', 'eu-north-1'),
    ('EUS1', 'eu-south-1'),
    ('EUS2', 'eu-south-2'),
    ('ILC1', 'il-central-1'),
    ('MEC1', 'me-central-1'),
    ('MES1', 'me-south-1'),
    ('SAE1', 'sa-east-1'),
    ('CNN1', 'cn-north-1'),
    ('CNW1', 'cn-northwest-1'),
    ('UGW1', 'us-gov-west-1'),
    ('UGE1', 'us-gov-east-1');
