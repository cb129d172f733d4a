/*
 * Snapshot loading: classify each streamed member (core/snapshot.h), parse
 * it with jansson, check its shape, and insert normalized rows. Member order
 * does not matter: every table is keyed so that any order gives the same
 * database, and conflicts are resolved by a fixed preference.
 */
#include "analyzer/load.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/db.h"
#include "analyzer/pipeline.h"
#include "analyzer/strmap.h"
#include "analyzer/trace.h"
#include "analyzer/verify.h"
#include "core/hash.h"
#include "core/snapshot.h"
#include "core/timefmt.h"

enum stmt_id {
    ST_WARNING,
    ST_ORG,
    ST_ACCOUNT_LISTED,
    ST_ACCOUNT_FOLDER,
    ST_ACCOUNT_IDENTITY,
    ST_ACCOUNT_ALIAS,
    ST_ACCOUNT_REGIONS_FILE,
    ST_REGION,
    ST_REGION_SCAN,
    ST_TRAIL_INSERT,
    ST_TRAIL_GET,
    ST_TRAIL_DELETE,
    ST_SIGHTING,
    ST_DOCUMENT,
    ST_STATUS,
    ST_EVENT_SELECTOR,
    ST_EXCLUDED_SOURCE,
    ST_DATA_RESOURCE,
    ST_ADVANCED_SELECTOR,
    ST_FIELD_SELECTOR,
    ST_INSIGHT,
    ST_ERROR,
    ST_COST,
    ST_USAGE_REGION,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_WARNING] = "INSERT INTO load_warnings (snapshot_id, member, message) "
                   "VALUES (?1, ?2, ?3)",
    [ST_ORG] = "INSERT OR REPLACE INTO organizations (snapshot_id, "
               "organization_id, arn, master_account_id, "
               "master_account_email, feature_set) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_ACCOUNT_LISTED] =
        "INSERT INTO accounts (snapshot_id, account_id, name, email, arn, "
        "org_status, joined_method, joined_at, in_org_listing, "
        "listing_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9) "
        "ON CONFLICT (snapshot_id, account_id) DO UPDATE SET "
        "name = excluded.name, email = excluded.email, arn = excluded.arn, "
        "org_status = excluded.org_status, "
        "joined_method = excluded.joined_method, "
        "joined_at = excluded.joined_at, in_org_listing = 1, "
        "listing_index = excluded.listing_index",
    [ST_ACCOUNT_FOLDER] =
        "INSERT INTO accounts (snapshot_id, account_id, has_folder) "
        "VALUES (?1, ?2, 1) ON CONFLICT (snapshot_id, account_id) "
        "DO UPDATE SET has_folder = 1",
    [ST_ACCOUNT_IDENTITY] = "UPDATE accounts SET identity_arn = ?3, "
                            "identity_user_id = ?4 WHERE snapshot_id = ?1 "
                            "AND account_id = ?2",
    [ST_ACCOUNT_ALIAS] = "UPDATE accounts SET alias = ?3 WHERE snapshot_id = "
                         "?1 AND account_id = ?2",
    [ST_ACCOUNT_REGIONS_FILE] = "UPDATE accounts SET has_regions_file = 1 "
                                "WHERE snapshot_id = ?1 AND account_id = ?2",
    [ST_REGION] = "INSERT OR REPLACE INTO account_regions (snapshot_id, "
                  "account_id, region, enabled, opt_in_status, endpoint) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_REGION_SCAN] = "INSERT INTO region_scans (snapshot_id, account_id, "
                       "region, trail_count) VALUES (?1, ?2, ?3, ?4)",
    [ST_TRAIL_INSERT] =
        "INSERT OR IGNORE INTO trails (snapshot_id, trail_arn, name, "
        "owner_account_id, home_region, partition, is_multi_region, "
        "is_organization_trail, include_global_service_events, "
        "s3_bucket_name, s3_key_prefix, sns_topic_name, sns_topic_arn, "
        "cloud_watch_logs_log_group_arn, cloud_watch_logs_role_arn, "
        "kms_key_id, log_file_validation_enabled, has_custom_event_selectors, "
        "has_insight_selectors, config_sha256, listed_by_account_id, "
        "listed_in_region) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    [ST_TRAIL_GET] = "SELECT config_sha256, listed_by_account_id, "
                     "listed_in_region, owner_account_id, home_region "
                     "FROM trails WHERE snapshot_id = ?1 AND trail_arn = ?2",
    [ST_TRAIL_DELETE] = "DELETE FROM trails WHERE snapshot_id = ?1 AND "
                        "trail_arn = ?2",
    [ST_SIGHTING] = "INSERT OR IGNORE INTO trail_sightings (snapshot_id, "
                    "account_id, region, trail_arn, is_shadow) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DOCUMENT] = "INSERT INTO trail_documents (snapshot_id, trail_arn, "
                    "kind, account_id, region, member, owner_account_id) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_STATUS] =
        "INSERT INTO trail_status (doc_id, snapshot_id, trail_arn, "
        "is_logging, latest_delivery_error, latest_notification_error, "
        "latest_delivery_time, latest_notification_time, start_logging_time, "
        "stop_logging_time, latest_cloud_watch_logs_delivery_error, "
        "latest_cloud_watch_logs_delivery_time, latest_digest_delivery_time, "
        "latest_digest_delivery_error, latest_delivery_attempt_time, "
        "latest_notification_attempt_time, "
        "latest_notification_attempt_succeeded, "
        "latest_delivery_attempt_succeeded, time_logging_started, "
        "time_logging_stopped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    [ST_EVENT_SELECTOR] = "INSERT INTO event_selectors (doc_id, "
                          "selector_index, snapshot_id, trail_arn, "
                          "read_write_type, include_management_events) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_EXCLUDED_SOURCE] = "INSERT OR IGNORE INTO "
                           "event_selector_excluded_sources (doc_id, "
                           "selector_index, event_source) VALUES (?1, ?2, ?3)",
    [ST_DATA_RESOURCE] = "INSERT OR IGNORE INTO data_resources (doc_id, "
                         "selector_index, resource_index, type, value) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ADVANCED_SELECTOR] = "INSERT INTO advanced_event_selectors (doc_id, "
                             "selector_index, snapshot_id, trail_arn, name) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FIELD_SELECTOR] = "INSERT OR IGNORE INTO advanced_field_selectors "
                          "(doc_id, selector_index, field, operator, value) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INSIGHT] = "INSERT OR REPLACE INTO insight_selectors (doc_id, "
                   "insight_type, event_categories) VALUES (?1, ?2, ?3)",
    [ST_ERROR] = "INSERT INTO errors (snapshot_id, scope, account_id, region, "
                 "operation, trail_owner, trail_name, code, message, "
                 "probable_causes, member) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_COST] = "INSERT INTO cost_usage (snapshot_id, member, period_start, "
                "period_end, estimated, account_id, usage_type, region, "
                "usage_kind, quantity, cost, currency) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* ?1 (the snapshot id, bound by stmt()) is unused here */
    [ST_USAGE_REGION] = "SELECT region FROM usage_type_regions "
                        "WHERE prefix = ?2 AND ?1 IS NOT NULL",
};

struct loader {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_int64 snapshot_id;
    const char *source;
    const struct load_options *opt;
    const char *member; /* the member being loaded, for messages */
    char last_account[CT_ACCOUNT_ID_LEN + 1];
    struct strmap seen;     /* trail ARN -> fingerprint (char[17]) */
    struct strmap paths;    /* member path -> struct member_state */
    char sums_expected[CT_SHA256_HEX_LEN + 1]; /* manifest's SHA256SUMS hash */
    int has_manifest;
    unsigned long long recognized;
    unsigned long long members;
    unsigned long long bytes;
};

/* ---- small helpers ---------------------------------------------------- */

static int shape_error(struct loader *l, struct ct_error *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int shape_error(struct loader *l, struct ct_error *err,
                       const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ct_error_set(err, CT_EPARSE, "member '%s': %s", l->member, msg);
}

static int sql_error(struct loader *l, struct ct_error *err)
{
    return ct_error_set(err, CT_ESQL, "member '%s': database: %s", l->member,
                        sqlite3_errmsg(l->db));
}

static sqlite3_stmt *stmt(struct loader *l, enum stmt_id id)
{
    sqlite3_stmt *s = l->st[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    sqlite3_bind_int64(s, 1, l->snapshot_id);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        /* every bound string outlives the step that reads it (JSON values
         * live until the member is done; locals until the call returns),
         * and stmt() rebinds before any later step */
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* tri-state: -1 unknown (NULL), 0, 1 */
static void bind_tri(sqlite3_stmt *s, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int(s, i, v);
}

static int step_done(struct loader *l, sqlite3_stmt *s, struct ct_error *err)
{
    int r = sqlite3_step(s);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        return sql_error(l, err);
    return 0;
}

static void add_warning(struct loader *l, const char *member, const char *msg)
{
    sqlite3_stmt *s = stmt(l, ST_WARNING);
    bind_text(s, 2, member);
    bind_text(s, 3, msg);
    sqlite3_step(s);
    if (l->opt->warn)
        l->opt->warn(l->opt->warn_ctx, l->source, member, msg);
}

/* A string field v (named key): absent and null are NULL; any other
 * non-string fails. */
static int field_str(struct loader *l, const json_t *v, const char *key,
                     const char **out, struct ct_error *err)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return shape_error(l, err, "field '%s' is not a string", key);
    *out = json_string_value(v);
    return 0;
}

static int get_str(struct loader *l, const json_t *obj, const char *key,
                   const char **out, struct ct_error *err)
{
    return field_str(l, json_object_get(obj, key), key, out, err);
}

static int field_bool(struct loader *l, const json_t *v, const char *key,
                      int *out, struct ct_error *err)
{
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return shape_error(l, err, "field '%s' is not a boolean", key);
    *out = json_is_true(v);
    return 0;
}

static int get_bool(struct loader *l, const json_t *obj, const char *key,
                    int *out, struct ct_error *err)
{
    return field_bool(l, json_object_get(obj, key), key, out, err);
}

/* A timestamp: epoch number or ISO-8601 string, normalized to UTC text. */
static int get_time(struct loader *l, const json_t *obj, const char *key,
                    char out[CT_ISO_TIME_MAX], int *present,
                    struct ct_error *err)
{
    json_t *v = json_object_get(obj, key);
    *present = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v)) {
        if (ct_time_from_epoch(out, json_number_value(v)) != 0)
            return shape_error(l, err, "field '%s' is not a valid time", key);
    } else if (json_is_string(v)) {
        if (json_string_value(v)[0] == '\0')
            return 0;
        if (ct_time_from_iso(out, json_string_value(v)) != 0)
            return shape_error(l, err, "field '%s' is not a valid time", key);
    } else {
        return shape_error(l, err, "field '%s' is not a time", key);
    }
    *present = 1;
    return 0;
}

static int bind_time(struct loader *l, sqlite3_stmt *s, int i,
                     const json_t *obj, const char *key, struct ct_error *err)
{
    char buf[CT_ISO_TIME_MAX];
    int present = 0;
    int rc = get_time(l, obj, key, buf, &present, err);
    if (rc)
        return rc;
    /* buf dies with this call: SQLite must copy it */
    if (present)
        sqlite3_bind_text(s, i, buf, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
    return 0;
}

/* An array field: absent/null is an empty array (*out NULL). */
static int get_array(struct loader *l, const json_t *obj, const char *key,
                     json_t **out, int required, struct ct_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return shape_error(l, err, "field '%s' is missing", key);
        return 0;
    }
    if (!json_is_array(v))
        return shape_error(l, err, "field '%s' is not an array", key);
    *out = v;
    return 0;
}

/* Copies src into dst[size], cut to fit, as snprintf("%s") would, without
 * the format parsing: four fields of every ARN of every listing and
 * document went through vfprintf, 2% of the inserting thread. */
static void copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int touch_account(struct loader *l, const char *account,
                         struct ct_error *err)
{
    if (strcmp(l->last_account, account) == 0)
        return 0;
    sqlite3_stmt *s = stmt(l, ST_ACCOUNT_FOLDER);
    bind_text(s, 2, account);
    int rc = step_done(l, s, err);
    if (rc == 0)
        copy_field(l->last_account, sizeof(l->last_account), account);
    return rc;
}

/* ---- members ------------------------------------------------------------ */

static int load_manifest(struct loader *l, const json_t *root,
                         struct ct_error *err)
{
    const char *format = NULL, *started = NULL, *ended = NULL;
    const char *partition = NULL;
    char *options = NULL, *missing = NULL;
    int complete = -1, rc;
    json_t *v, *caller;
    sqlite3_stmt *s = NULL;

    if ((rc = get_str(l, root, "format", &format, err)))
        return rc;
    if (!format || strcmp(format, CT_SNAPSHOT_FORMAT) != 0)
        return shape_error(l, err, "not a %s manifest (field 'format')",
                           CT_SNAPSHOT_FORMAT);
    v = json_object_get(root, "format_version");
    if (!json_is_integer(v))
        return shape_error(l, err, "field '%s' is not an integer",
                           "format_version");
    if (json_integer_value(v) != CT_SNAPSHOT_VERSION)
        return ct_error_set(err, CT_EINVAL,
                            "member '%s': unknown snapshot format version "
                            "%lld (this ctaudit reads version %d)",
                            l->member, (long long)json_integer_value(v),
                            CT_SNAPSHOT_VERSION);
    if ((rc = get_str(l, root, "started_at", &started, err))
        || (rc = get_str(l, root, "ended_at", &ended, err))
        || (rc = get_str(l, root, "partition", &partition, err))
        || (rc = get_bool(l, root, "complete", &complete, err)))
        return rc;
    const char *sums_sha = NULL;
    json_t *sums = json_object_get(root, "checksums");
    if (sums && !json_is_null(sums)) {
        const char *file = NULL;
        if (!json_is_object(sums))
            return shape_error(l, err, "field '%s' is not an object",
                               "checksums");
        if ((rc = get_str(l, sums, "file", &file, err))
            || (rc = get_str(l, sums, "sha256", &sums_sha, err)))
            return rc;
        if (!file || strcmp(file, CT_SNAPSHOT_CHECKSUMS) != 0 || !sums_sha
            || strlen(sums_sha) != CT_SHA256_HEX_LEN)
            return shape_error(l, err,
                               "field 'checksums' must name %s and its "
                               "sha256",
                               CT_SNAPSHOT_CHECKSUMS);
    }
    caller = json_object_get(root, "caller");
    if (caller && !json_is_null(caller) && !json_is_object(caller))
        return shape_error(l, err, "field '%s' is not an object", "caller");

    v = json_object_get(root, "options");
    if (v && !json_is_null(v))
        options = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    v = json_object_get(root, "not_collected");
    if (v && !json_is_null(v))
        missing = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

    const char *caller_account = NULL, *caller_arn = NULL;
    if (json_is_object(caller)
        && ((rc = get_str(l, caller, "Account", &caller_account, err))
            || (rc = get_str(l, caller, "Arn", &caller_arn, err))))
        goto done;
    const char *cname = NULL, *cversion = NULL;
    json_t *collector = json_object_get(root, "collector");
    if (json_is_object(collector)
        && ((rc = get_str(l, collector, "name", &cname, err))
            || (rc = get_str(l, collector, "version", &cversion, err))))
        goto done;

    if (sqlite3_prepare_v2(
            l->db,
            "UPDATE snapshots SET has_manifest = 1, format_version = ?2, "
            "collector_name = ?3, collector_version = ?4, started_at = ?5, "
            "ended_at = ?6, complete = ?7, partition = ?8, "
            "caller_account_id = ?9, caller_arn = ?10, options_json = ?11, "
            "not_collected_json = ?12, checksums_sha256 = ?13 "
            "WHERE snapshot_id = ?1",
            -1, &s, NULL) != SQLITE_OK) {
        rc = sql_error(l, err);
        goto done;
    }
    char st_buf[CT_ISO_TIME_MAX], en_buf[CT_ISO_TIME_MAX];
    sqlite3_bind_int64(s, 1, l->snapshot_id);
    sqlite3_bind_int(s, 2, CT_SNAPSHOT_VERSION);
    bind_text(s, 3, cname);
    bind_text(s, 4, cversion);
    bind_text(s, 5, started && ct_time_from_iso(st_buf, started) == 0
                        ? st_buf : started);
    bind_text(s, 6, ended && ct_time_from_iso(en_buf, ended) == 0 ? en_buf
                                                                  : ended);
    bind_tri(s, 7, complete);
    bind_text(s, 8, partition);
    bind_text(s, 9, caller_account);
    bind_text(s, 10, caller_arn);
    bind_text(s, 11, options);
    bind_text(s, 12, missing);
    bind_text(s, 13, sums_sha);
    if ((rc = step_done(l, s, err)))
        goto done;
    if (sums_sha)
        snprintf(l->sums_expected, sizeof(l->sums_expected), "%s", sums_sha);

    l->has_manifest = 1;
done:
    sqlite3_finalize(s);
    free(options);
    free(missing);
    return rc;
}

static int load_org(struct loader *l, const json_t *root,
                    struct ct_error *err)
{
    json_t *org = json_object_get(root, "Organization");
    const char *id, *arn, *master, *email, *fs;
    int rc;
    if (!json_is_object(org))
        return shape_error(l, err, "field '%s' is not an object",
                           "Organization");
    if ((rc = get_str(l, org, "Id", &id, err))
        || (rc = get_str(l, org, "Arn", &arn, err))
        || (rc = get_str(l, org, "MasterAccountId", &master, err))
        || (rc = get_str(l, org, "MasterAccountEmail", &email, err))
        || (rc = get_str(l, org, "FeatureSet", &fs, err)))
        return rc;
    sqlite3_stmt *s = stmt(l, ST_ORG);
    bind_text(s, 2, id);
    bind_text(s, 3, arn);
    bind_text(s, 4, master);
    bind_text(s, 5, email);
    bind_text(s, 6, fs);
    return step_done(l, s, err);
}

static int load_org_accounts(struct loader *l, const json_t *root,
                             struct ct_error *err)
{
    json_t *list, *a;
    size_t i;
    int rc = get_array(l, root, "Accounts", &list, 1, err);
    if (rc)
        return rc;
    json_array_foreach(list, i, a) {
        const char *id, *name, *email, *arn, *status;
        const char *method;
        if (!json_is_object(a))
            return shape_error(l, err, "'%s' entry is not an object",
                               "Accounts");
        if ((rc = get_str(l, a, "Id", &id, err))
            || (rc = get_str(l, a, "Name", &name, err))
            || (rc = get_str(l, a, "Email", &email, err))
            || (rc = get_str(l, a, "Arn", &arn, err))
            || (rc = get_str(l, a, "Status", &status, err))
            || (rc = get_str(l, a, "JoinedMethod", &method, err)))
            return rc;
        if (!id || !ct_valid_account_id(id))
            return shape_error(l, err, "an account has an invalid %s", "Id");
        sqlite3_stmt *s = stmt(l, ST_ACCOUNT_LISTED);
        bind_text(s, 2, id);
        bind_text(s, 3, name);
        bind_text(s, 4, email);
        bind_text(s, 5, arn);
        bind_text(s, 6, status);
        bind_text(s, 7, method);
        sqlite3_bind_int64(s, 9, (sqlite3_int64)i);
        if ((rc = bind_time(l, s, 8, a, "JoinedTimestamp", err))
            || (rc = step_done(l, s, err)))
            return rc;
    }
    return 0;
}

static int load_identity(struct loader *l, const struct ct_member_ref *ref,
                         const json_t *root, struct ct_error *err)
{
    const char *account, *arn, *user;
    int rc;
    if ((rc = get_str(l, root, "Account", &account, err))
        || (rc = get_str(l, root, "Arn", &arn, err))
        || (rc = get_str(l, root, "UserId", &user, err)))
        return rc;
    if (account && strcmp(account, ref->account) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "identity is account %.12s, not the folder's %s", account,
                 ref->account);
        add_warning(l, l->member, msg);
    }
    sqlite3_stmt *s = stmt(l, ST_ACCOUNT_IDENTITY);
    bind_text(s, 2, ref->account);
    bind_text(s, 3, arn);
    bind_text(s, 4, user);
    return step_done(l, s, err);
}

static int load_aliases(struct loader *l, const struct ct_member_ref *ref,
                        const json_t *root, struct ct_error *err)
{
    json_t *list;
    int rc = get_array(l, root, "AccountAliases", &list, 1, err);
    if (rc)
        return rc;
    json_t *first = json_array_get(list, 0);
    if (first && !json_is_string(first))
        return shape_error(l, err, "'%s' entry is not a string",
                           "AccountAliases");
    sqlite3_stmt *s = stmt(l, ST_ACCOUNT_ALIAS);
    bind_text(s, 2, ref->account);
    bind_text(s, 3, first ? json_string_value(first) : NULL);
    return step_done(l, s, err);
}

static int load_regions(struct loader *l, const struct ct_member_ref *ref,
                        const json_t *root, struct ct_error *err)
{
    json_t *list, *r;
    size_t i;
    int rc = get_array(l, root, "Regions", &list, 1, err);
    if (rc)
        return rc;
    json_array_foreach(list, i, r) {
        const char *name, *opt_in, *endpoint;
        if (!json_is_object(r))
            return shape_error(l, err, "'%s' entry is not an object",
                               "Regions");
        if ((rc = get_str(l, r, "RegionName", &name, err))
            || (rc = get_str(l, r, "OptInStatus", &opt_in, err))
            || (rc = get_str(l, r, "Endpoint", &endpoint, err)))
            return rc;
        if (!name || !ct_valid_region(name))
            return shape_error(l, err, "a region has an invalid %s",
                               "RegionName");
        sqlite3_stmt *s = stmt(l, ST_REGION);
        bind_text(s, 2, ref->account);
        bind_text(s, 3, name);
        sqlite3_bind_int(s, 4,
                         !(opt_in && strcmp(opt_in, "not-opted-in") == 0));
        bind_text(s, 5, opt_in);
        bind_text(s, 6, endpoint);
        if ((rc = step_done(l, s, err)))
            return rc;
    }
    sqlite3_stmt *s = stmt(l, ST_ACCOUNT_REGIONS_FILE);
    bind_text(s, 2, ref->account);
    return step_done(l, s, err);
}

static int load_error(struct loader *l, const struct ct_member_ref *ref,
                      const char *scope, const json_t *root,
                      struct ct_error *err)
{
    const char *op, *code, *message;
    char *causes = NULL;
    int rc;
    if ((rc = get_str(l, root, "Operation", &op, err))
        || (rc = get_str(l, root, "Code", &code, err))
        || (rc = get_str(l, root, "Message", &message, err)))
        return rc;
    json_t *pc = json_object_get(root, "ProbableCauses");
    if (pc && !json_is_null(pc)) {
        size_t i, len = 1;
        json_t *c;
        if (!json_is_array(pc))
            return shape_error(l, err, "field '%s' is not an array",
                               "ProbableCauses");
        json_array_foreach(pc, i, c) {
            if (!json_is_string(c))
                return shape_error(l, err, "'%s' entry is not a string",
                                   "ProbableCauses");
            len += strlen(json_string_value(c)) + 2;
        }
        causes = malloc(len);
        if (!causes)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        size_t off = 0;
        json_array_foreach(pc, i, c) {
            size_t n = strlen(json_string_value(c));
            if (i) {
                memcpy(causes + off, "; ", 2);
                off += 2;
            }
            memcpy(causes + off, json_string_value(c), n);
            off += n;
        }
        causes[off] = '\0';
    }
    sqlite3_stmt *s = stmt(l, ST_ERROR);
    bind_text(s, 2, scope);
    bind_text(s, 3, ref->account[0] ? ref->account : NULL);
    bind_text(s, 4, ref->region[0] ? ref->region : NULL);
    bind_text(s, 5, op ? op : (ref->operation[0] ? ref->operation : NULL));
    bind_text(s, 6, ref->owner[0] ? ref->owner : NULL);
    bind_text(s, 7, ref->trail_name[0] ? ref->trail_name : NULL);
    bind_text(s, 8, code);
    bind_text(s, 9, message);
    bind_text(s, 10, causes);
    bind_text(s, 11, l->member);
    rc = step_done(l, s, err);
    free(causes);
    return rc;
}

/* ---- trails ------------------------------------------------------------- */

/* Mixes len bytes into h, eight at a time: the configuration fingerprint
 * is computed for every listing of every trail (250,000 at 10,000
 * accounts), and a byte-at-a-time FNV-1a was a twentieth of the load's
 * inserting thread. The length goes in too, so fields stay apart. */
static uint64_t mix_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t w;
    for (size_t left = len; left >= 8; p += 8, left -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, len % 8);
    h = (h ^ w ^ ((uint64_t)len << 56)) * 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 29;
    return h;
}

struct arn_parts {
    char partition[16];
    char region[CT_REGION_MAX + 1];
    char account[CT_ACCOUNT_ID_LEN + 1];
    char name[CT_TRAIL_NAME_MAX + 1];
};

/* arn:<partition>:cloudtrail:<region>:<account>:trail/<name> */
static int parse_trail_arn(struct arn_parts *out, const char *arn)
{
    char buf[512];
    char *f[6];
    size_t n = strlen(arn);
    /* no space: rules and the report list ARNs separated by spaces */
    if (n >= sizeof(buf) || strchr(arn, ' '))
        return -1;
    memcpy(buf, arn, n + 1);
    char *p = buf;
    for (int i = 0; i < 5; i++) {
        char *c = strchr(p, ':');
        if (!c)
            return -1;
        *c = '\0';
        f[i] = p;
        p = c + 1;
    }
    f[5] = p;
    if (strcmp(f[0], "arn") != 0 || strcmp(f[2], "cloudtrail") != 0
        || strncmp(f[5], "trail/", 6) != 0 || strlen(f[1]) >= 16
        || !ct_valid_region(f[3]) || !ct_valid_account_id(f[4])
        || !ct_valid_trail_name(f[5] + 6))
        return -1;
    copy_field(out->partition, sizeof(out->partition), f[1]);
    copy_field(out->region, sizeof(out->region), f[3]);
    copy_field(out->account, sizeof(out->account), f[4]);
    copy_field(out->name, sizeof(out->name), f[5] + 6);
    return 0;
}

/* Listing preference when one ARN is listed with different configurations:
 * the owner's listing in the home region, then the smallest (account,
 * region). Lower is better. */
static int listing_better(const char *acc_a, const char *reg_a,
                          const char *acc_b, const char *reg_b,
                          const char *owner, const char *home)
{
    int a_own = strcmp(acc_a, owner) == 0 && strcmp(reg_a, home) == 0;
    int b_own = strcmp(acc_b, owner) == 0 && strcmp(reg_b, home) == 0;
    if (a_own != b_own)
        return a_own;
    int c = strcmp(acc_a, acc_b);
    if (c == 0)
        c = strcmp(reg_a, reg_b);
    return c < 0;
}

static int resolve_trail_conflict(struct loader *l, const char *arn,
                                  const char *sha, const char *account,
                                  const char *region, int *replace,
                                  struct ct_error *err)
{
    sqlite3_stmt *g = stmt(l, ST_TRAIL_GET);
    *replace = 0;
    bind_text(g, 2, arn);
    if (sqlite3_step(g) != SQLITE_ROW)
        return sql_error(l, err);
    const char *old_sha = (const char *)sqlite3_column_text(g, 0);
    if (strcmp(old_sha, sha) == 0)
        return 0;
    char old_acc[CT_ACCOUNT_ID_LEN + 1], old_reg[CT_REGION_MAX + 1];
    char owner[CT_ACCOUNT_ID_LEN + 1], home[CT_REGION_MAX + 1];
    snprintf(old_acc, sizeof(old_acc), "%s", sqlite3_column_text(g, 1));
    snprintf(old_reg, sizeof(old_reg), "%s", sqlite3_column_text(g, 2));
    snprintf(owner, sizeof(owner), "%s", sqlite3_column_text(g, 3));
    snprintf(home, sizeof(home), "%s", sqlite3_column_text(g, 4));
    sqlite3_reset(g);
    *replace = listing_better(account, region, old_acc, old_reg, owner, home);
    char msg[640];
    snprintf(msg, sizeof(msg),
             "trail %s is listed with different configurations in %s/%s "
             "and %s/%s; using the one from %s/%s",
             arn, old_acc, old_reg, account, region,
             *replace ? account : old_acc, *replace ? region : old_reg);
    add_warning(l, l->member, msg);
    return 0;
}

/* The DescribeTrails fields a trail entry is read for. */
enum trail_field {
    TF_ARN, TF_NAME, TF_HOME, TF_S3B, TF_S3P, TF_SNS, TF_SNSARN, TF_CWG,
    TF_CWR, TF_KMS, TF_MULTI, TF_ORG, TF_GLOBAL, TF_LFV, TF_HCES, TF_HIS,
    TF_COUNT
};

static const char *const trail_field_keys[TF_COUNT] = {
    [TF_ARN] = "TrailARN",
    [TF_NAME] = "Name",
    [TF_HOME] = "HomeRegion",
    [TF_S3B] = "S3BucketName",
    [TF_S3P] = "S3KeyPrefix",
    [TF_SNS] = "SnsTopicName",
    [TF_SNSARN] = "SnsTopicARN",
    [TF_CWG] = "CloudWatchLogsLogGroupArn",
    [TF_CWR] = "CloudWatchLogsRoleArn",
    [TF_KMS] = "KmsKeyId",
    [TF_MULTI] = "IsMultiRegionTrail",
    [TF_ORG] = "IsOrganizationTrail",
    [TF_GLOBAL] = "IncludeGlobalServiceEvents",
    [TF_LFV] = "LogFileValidationEnabled",
    [TF_HCES] = "HasCustomEventSelectors",
    [TF_HIS] = "HasInsightSelectors",
};

/* The field named key, or -1: candidates by first letter, then strcmp. */
static int trail_field(const char *key)
{
    /* field + 1; 0 ends a row */
    static const unsigned char by_letter['T' - 'A' + 1][5] = {
        ['C' - 'A'] = {TF_CWG + 1, TF_CWR + 1},
        ['H' - 'A'] = {TF_HOME + 1, TF_HCES + 1, TF_HIS + 1},
        ['I' - 'A'] = {TF_MULTI + 1, TF_ORG + 1, TF_GLOBAL + 1},
        ['K' - 'A'] = {TF_KMS + 1},
        ['L' - 'A'] = {TF_LFV + 1},
        ['N' - 'A'] = {TF_NAME + 1},
        ['S' - 'A'] = {TF_S3B + 1, TF_S3P + 1, TF_SNS + 1, TF_SNSARN + 1},
        ['T' - 'A'] = {TF_ARN + 1},
    };
    if (key[0] < 'A' || key[0] > 'T')
        return -1;
    const unsigned char *c = by_letter[key[0] - 'A'];
    for (int i = 0; i < 5 && c[i]; i++)
        if (strcmp(key, trail_field_keys[c[i] - 1]) == 0)
            return c[i] - 1;
    return -1;
}

static int load_trail_entry(struct loader *l, const struct ct_member_ref *ref,
                            const json_t *t, struct ct_error *err)
{
    const char *arn, *name, *home, *s3b, *s3p, *sns, *snsarn, *cwg, *cwr;
    const char *kms;
    int multi, org, global, lfv, hces, his, rc;
    struct arn_parts ap;
    char sha[17];

    if (!json_is_object(t))
        return shape_error(l, err, "'%s' entry is not an object", "trailList");
    /* one pass over the entry instead of a hash lookup per field (250,000
     * entries at 10,000 accounts), then the checks in a fixed order */
    json_t *f[TF_COUNT] = {NULL};
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)t, key, value) {
        int i = trail_field(key);
        if (i >= 0)
            f[i] = value;
    }
    const char **strs[TF_MULTI] = {&arn, &name, &home, &s3b, &s3p, &sns,
                                   &snsarn, &cwg, &cwr, &kms};
    int *bools[TF_COUNT - TF_MULTI] = {&multi, &org, &global, &lfv, &hces,
                                       &his};
    for (int i = 0; i < TF_MULTI; i++)
        if ((rc = field_str(l, f[i], trail_field_keys[i], strs[i], err)))
            return rc;
    for (int i = TF_MULTI; i < TF_COUNT; i++)
        if ((rc = field_bool(l, f[i], trail_field_keys[i],
                             bools[i - TF_MULTI], err)))
            return rc;
    if (!arn)
        return shape_error(l, err, "a trail has no %s", "TrailARN");
    if (parse_trail_arn(&ap, arn) != 0)
        return ct_error_set(err, CT_EPARSE,
                            "member '%s': invalid TrailARN '%.200s'",
                            l->member, arn);
    if (!home)
        home = ap.region;
    if (!name)
        name = ap.name;

    /* a fingerprint of the configuration, to notice one ARN listed with
     * two configurations; cheap because every shadow listing computes it */
    {
        const char *fields[] = {arn, name, home, s3b, s3p, sns, snsarn,
                                cwg, cwr, kms};
        const int flags[] = {multi, org, global, lfv, hces, his};
        uint64_t h = 0x9E3779B97F4A7C15ULL;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            h = fields[i] ? mix_bytes(h, fields[i], strlen(fields[i]) + 1)
                          : mix_bytes(h, "\377", 1);
        char bits[sizeof(flags) / sizeof(flags[0])];
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
            bits[i] = (char)('1' + flags[i]);
        h = mix_bytes(h, bits, sizeof(bits));
        for (int i = 15; i >= 0; i--, h >>= 4)
            sha[i] = "0123456789abcdef"[h & 15];
        sha[16] = '\0';
    }

    const char *known = strmap_get(&l->seen, arn);
    if (known && strcmp(known, sha) == 0)
        goto sighting; /* the same configuration again: a shadow listing */

    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *s = stmt(l, ST_TRAIL_INSERT);
        bind_text(s, 2, arn);
        bind_text(s, 3, name);
        bind_text(s, 4, ap.account);
        bind_text(s, 5, home);
        bind_text(s, 6, ap.partition);
        bind_tri(s, 7, multi);
        bind_tri(s, 8, org);
        bind_tri(s, 9, global);
        bind_text(s, 10, s3b);
        bind_text(s, 11, s3p);
        bind_text(s, 12, sns);
        bind_text(s, 13, snsarn);
        bind_text(s, 14, cwg);
        bind_text(s, 15, cwr);
        bind_text(s, 16, kms);
        bind_tri(s, 17, lfv);
        bind_tri(s, 18, hces);
        bind_tri(s, 19, his);
        bind_text(s, 20, sha);
        bind_text(s, 21, ref->account);
        bind_text(s, 22, ref->region);
        if ((rc = step_done(l, s, err)))
            return rc;
        if (sqlite3_changes(l->db) > 0 || attempt == 1)
            break;
        int replace = 0;
        rc = resolve_trail_conflict(l, arn, sha, ref->account, ref->region,
                                    &replace, err);
        if (rc)
            return rc;
        if (!replace)
            break;
        sqlite3_stmt *d = stmt(l, ST_TRAIL_DELETE);
        bind_text(d, 2, arn);
        if ((rc = step_done(l, d, err)))
            return rc;
    }

    /* remember what the table now holds for this ARN */
    {
        sqlite3_stmt *g = stmt(l, ST_TRAIL_GET);
        bind_text(g, 2, arn);
        if (sqlite3_step(g) != SQLITE_ROW)
            return sql_error(l, err);
        char *slot = strmap_put(&l->seen, arn, NULL);
        if (slot)
            snprintf(slot, 17, "%s", sqlite3_column_text(g, 0));
        sqlite3_reset(g);
        if (!slot)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
sighting:;
    sqlite3_stmt *s = stmt(l, ST_SIGHTING);
    bind_text(s, 2, ref->account);
    bind_text(s, 3, ref->region);
    bind_text(s, 4, arn);
    sqlite3_bind_int(s, 5, strcmp(home, ref->region) != 0);
    return step_done(l, s, err);
}

static int load_describe_trails(struct loader *l,
                                const struct ct_member_ref *ref,
                                const json_t *root, struct ct_error *err)
{
    json_t *list, *t;
    size_t i;
    int rc = get_array(l, root, "trailList", &list, 1, err);
    if (rc)
        return rc;
    sqlite3_stmt *s = stmt(l, ST_REGION_SCAN);
    bind_text(s, 2, ref->account);
    bind_text(s, 3, ref->region);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)json_array_size(list));
    if ((rc = step_done(l, s, err)))
        return rc;
    json_array_foreach(list, i, t) {
        if ((rc = load_trail_entry(l, ref, t, err)))
            return rc;
    }
    return 0;
}

/* The trail a per-trail member is about: the body's TrailARN when it has
 * one, else built from the path (owner, home region, name). */
static int document_arn(struct loader *l, const struct ct_member_ref *ref,
                        const json_t *root, char *arn, size_t size,
                        struct ct_error *err)
{
    const char *body_arn = NULL;
    int rc = get_str(l, root, "TrailARN", &body_arn, err);
    struct arn_parts ap;
    if (rc)
        return rc;
    if (body_arn) {
        if (parse_trail_arn(&ap, body_arn) != 0)
            return ct_error_set(err, CT_EPARSE,
                                "member '%s': invalid TrailARN '%.200s'",
                                l->member, body_arn);
        if (strcmp(ap.account, ref->owner) != 0
            || strcmp(ap.name, ref->trail_name) != 0)
            return ct_error_set(err, CT_EPARSE,
                                "member '%s': TrailARN '%.200s' does not "
                                "match the member's path",
                                l->member, body_arn);
        copy_field(arn, size, body_arn);
        return 0;
    }
    snprintf(arn, size, "arn:%s:cloudtrail:%s:%s:trail/%s",
             ct_region_partition(ref->region), ref->region, ref->owner,
             ref->trail_name);
    if (parse_trail_arn(&ap, arn) != 0)
        return ct_error_set(err, CT_EPARSE,
                            "member '%s': invalid trail name in the path",
                            l->member);
    return 0;
}

static int add_document(struct loader *l, const struct ct_member_ref *ref,
                        const char *arn, const char *kind,
                        sqlite3_int64 *doc_id, struct ct_error *err)
{
    sqlite3_stmt *s = stmt(l, ST_DOCUMENT);
    bind_text(s, 2, arn);
    bind_text(s, 3, kind);
    bind_text(s, 4, ref->account);
    bind_text(s, 5, ref->region);
    bind_text(s, 6, l->member);
    bind_text(s, 7, ref->owner);
    if (sqlite3_step(s) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(l->db) == SQLITE_CONSTRAINT_UNIQUE)
            return ct_error_set(err, CT_EPARSE,
                                "member '%s': a second %s document for trail "
                                "'%s' from account %s",
                                l->member, kind, arn, ref->account);
        return sql_error(l, err);
    }
    *doc_id = sqlite3_last_insert_rowid(l->db);
    return 0;
}

static int load_string_list(struct loader *l, const json_t *list,
                            const char *what, sqlite3_int64 doc, int index,
                            const char *field, const char *op,
                            struct ct_error *err)
{
    size_t i;
    json_t *v;
    int rc;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return shape_error(l, err, "'%s' entry is not a string", what);
        sqlite3_stmt *s;
        if (field) {
            s = stmt(l, ST_FIELD_SELECTOR);
            sqlite3_bind_int64(s, 1, doc);
            sqlite3_bind_int(s, 2, index);
            bind_text(s, 3, field);
            bind_text(s, 4, op);
            bind_text(s, 5, json_string_value(v));
        } else {
            s = stmt(l, ST_EXCLUDED_SOURCE);
            sqlite3_bind_int64(s, 1, doc);
            sqlite3_bind_int(s, 2, index);
            bind_text(s, 3, json_string_value(v));
        }
        if ((rc = step_done(l, s, err)))
            return rc;
    }
    return 0;
}

static int load_basic_selector(struct loader *l, sqlite3_int64 doc,
                               const char *arn, int index, const json_t *sel,
                               struct ct_error *err)
{
    const char *rw;
    int mgmt, rc;
    json_t *excluded, *resources, *r;
    size_t i;
    if (!json_is_object(sel))
        return shape_error(l, err, "'%s' entry is not an object",
                           "EventSelectors");
    if ((rc = get_str(l, sel, "ReadWriteType", &rw, err))
        || (rc = get_bool(l, sel, "IncludeManagementEvents", &mgmt, err))
        || (rc = get_array(l, sel, "ExcludeManagementEventSources", &excluded,
                           0, err))
        || (rc = get_array(l, sel, "DataResources", &resources, 0, err)))
        return rc;
    if (rw && strcmp(rw, "All") != 0 && strcmp(rw, "ReadOnly") != 0
        && strcmp(rw, "WriteOnly") != 0)
        return shape_error(l, err, "unknown ReadWriteType '%.40s'", rw);
    sqlite3_stmt *s = stmt(l, ST_EVENT_SELECTOR);
    sqlite3_bind_int64(s, 1, doc);
    sqlite3_bind_int(s, 2, index);
    sqlite3_bind_int64(s, 3, l->snapshot_id);
    bind_text(s, 4, arn);
    bind_text(s, 5, rw);
    bind_tri(s, 6, mgmt);
    if ((rc = step_done(l, s, err)))
        return rc;
    if (excluded
        && (rc = load_string_list(l, excluded,
                                  "ExcludeManagementEventSources", doc, index,
                                  NULL, NULL, err)))
        return rc;
    json_array_foreach(resources, i, r) {
        const char *type;
        json_t *values, *v;
        size_t j;
        if (!json_is_object(r))
            return shape_error(l, err, "'%s' entry is not an object",
                               "DataResources");
        if ((rc = get_str(l, r, "Type", &type, err))
            || (rc = get_array(l, r, "Values", &values, 0, err)))
            return rc;
        if (!type)
            return shape_error(l, err, "a data resource has no %s", "Type");
        json_array_foreach(values, j, v) {
            if (!json_is_string(v))
                return shape_error(l, err, "'%s' entry is not a string",
                                   "Values");
            sqlite3_stmt *d = stmt(l, ST_DATA_RESOURCE);
            sqlite3_bind_int64(d, 1, doc);
            sqlite3_bind_int(d, 2, index);
            sqlite3_bind_int64(d, 3, (sqlite3_int64)i);
            bind_text(d, 4, type);
            bind_text(d, 5, json_string_value(v));
            if ((rc = step_done(l, d, err)))
                return rc;
        }
    }
    return 0;
}

static const char *const field_operators[] = {
    "Equals", "NotEquals", "StartsWith", "NotStartsWith", "EndsWith",
    "NotEndsWith", NULL};

static int load_advanced_selector(struct loader *l, sqlite3_int64 doc,
                                  const char *arn, int index,
                                  const json_t *sel, struct ct_error *err)
{
    const char *name;
    json_t *fields, *f;
    size_t i;
    int rc;
    if (!json_is_object(sel))
        return shape_error(l, err, "'%s' entry is not an object",
                           "AdvancedEventSelectors");
    if ((rc = get_str(l, sel, "Name", &name, err))
        || (rc = get_array(l, sel, "FieldSelectors", &fields, 1, err)))
        return rc;
    sqlite3_stmt *s = stmt(l, ST_ADVANCED_SELECTOR);
    sqlite3_bind_int64(s, 1, doc);
    sqlite3_bind_int(s, 2, index);
    sqlite3_bind_int64(s, 3, l->snapshot_id);
    bind_text(s, 4, arn);
    bind_text(s, 5, name);
    if ((rc = step_done(l, s, err)))
        return rc;
    json_array_foreach(fields, i, f) {
        const char *field;
        if (!json_is_object(f))
            return shape_error(l, err, "'%s' entry is not an object",
                               "FieldSelectors");
        if ((rc = get_str(l, f, "Field", &field, err)))
            return rc;
        if (!field)
            return shape_error(l, err, "a field selector has no %s", "Field");
        for (int k = 0; field_operators[k]; k++) {
            json_t *values;
            if ((rc = get_array(l, f, field_operators[k], &values, 0, err)))
                return rc;
            if (values
                && (rc = load_string_list(l, values, field_operators[k], doc,
                                          index, field, field_operators[k],
                                          err)))
                return rc;
        }
    }
    return 0;
}

static int load_event_selectors(struct loader *l,
                                const struct ct_member_ref *ref,
                                const json_t *root, struct ct_error *err)
{
    char arn[512];
    sqlite3_int64 doc;
    json_t *basic, *adv, *sel;
    size_t i;
    int rc;
    if ((rc = get_array(l, root, "EventSelectors", &basic, 0, err))
        || (rc = get_array(l, root, "AdvancedEventSelectors", &adv, 0, err))
        || (rc = document_arn(l, ref, root, arn, sizeof(arn), err))
        || (rc = add_document(l, ref, arn, "event_selectors", &doc, err)))
        return rc;
    json_array_foreach(basic, i, sel) {
        if ((rc = load_basic_selector(l, doc, arn, (int)i, sel, err)))
            return rc;
    }
    json_array_foreach(adv, i, sel) {
        if ((rc = load_advanced_selector(l, doc, arn, (int)i, sel, err)))
            return rc;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_insight_selectors(struct loader *l,
                                  const struct ct_member_ref *ref,
                                  const json_t *root, struct ct_error *err)
{
    char arn[512];
    sqlite3_int64 doc;
    json_t *list, *sel;
    size_t i;
    int rc;
    if ((rc = get_array(l, root, "InsightSelectors", &list, 0, err))
        || (rc = document_arn(l, ref, root, arn, sizeof(arn), err))
        || (rc = add_document(l, ref, arn, "insight_selectors", &doc, err)))
        return rc;
    json_array_foreach(list, i, sel) {
        const char *type;
        json_t *cats;
        const char *names[8];
        char joined[128] = "Management";
        if (!json_is_object(sel))
            return shape_error(l, err, "'%s' entry is not an object",
                               "InsightSelectors");
        if ((rc = get_str(l, sel, "InsightType", &type, err))
            || (rc = get_array(l, sel, "EventCategories", &cats, 0, err)))
            return rc;
        if (!type)
            return shape_error(l, err, "an Insights selector has no %s",
                               "InsightType");
        size_t n = json_array_size(cats);
        if (n > 8)
            return shape_error(l, err, "too many %s", "EventCategories");
        for (size_t k = 0; k < n; k++) {
            json_t *c = json_array_get(cats, k);
            if (!json_is_string(c) || strlen(json_string_value(c)) > 32)
                return shape_error(l, err, "'%s' entry is not a short string",
                                   "EventCategories");
            names[k] = json_string_value(c);
        }
        if (n) {
            qsort(names, n, sizeof(names[0]), cmp_str);
            joined[0] = '\0';
            for (size_t k = 0; k < n; k++) {
                if (k && strcmp(names[k], names[k - 1]) == 0)
                    continue;
                if (joined[0])
                    strncat(joined, ",", sizeof(joined) - strlen(joined) - 1);
                strncat(joined, names[k], sizeof(joined) - strlen(joined) - 1);
            }
        }
        sqlite3_stmt *s = stmt(l, ST_INSIGHT);
        sqlite3_bind_int64(s, 1, doc);
        bind_text(s, 2, type);
        bind_text(s, 3, joined);
        if ((rc = step_done(l, s, err)))
            return rc;
    }
    return 0;
}

static int load_trail_status(struct loader *l,
                             const struct ct_member_ref *ref,
                             const json_t *root, struct ct_error *err)
{
    static const struct {
        int column;
        const char *key;
        int is_time;
    } fields[] = {
        {5, "LatestDeliveryError", 0},
        {6, "LatestNotificationError", 0},
        {7, "LatestDeliveryTime", 1},
        {8, "LatestNotificationTime", 1},
        {9, "StartLoggingTime", 1},
        {10, "StopLoggingTime", 1},
        {11, "LatestCloudWatchLogsDeliveryError", 0},
        {12, "LatestCloudWatchLogsDeliveryTime", 1},
        {13, "LatestDigestDeliveryTime", 1},
        {14, "LatestDigestDeliveryError", 0},
        /* deprecated string fields: kept as given */
        {15, "LatestDeliveryAttemptTime", 0},
        {16, "LatestNotificationAttemptTime", 0},
        {17, "LatestNotificationAttemptSucceeded", 0},
        {18, "LatestDeliveryAttemptSucceeded", 0},
        {19, "TimeLoggingStarted", 0},
        {20, "TimeLoggingStopped", 0},
    };
    char arn[512];
    sqlite3_int64 doc;
    int logging, rc;
    if ((rc = get_bool(l, root, "IsLogging", &logging, err))
        || (rc = document_arn(l, ref, root, arn, sizeof(arn), err))
        || (rc = add_document(l, ref, arn, "trail_status", &doc, err)))
        return rc;
    sqlite3_stmt *s = stmt(l, ST_STATUS);
    sqlite3_bind_int64(s, 1, doc);
    sqlite3_bind_int64(s, 2, l->snapshot_id);
    bind_text(s, 3, arn);
    bind_tri(s, 4, logging);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].is_time) {
            rc = bind_time(l, s, fields[i].column, root, fields[i].key, err);
        } else {
            const char *v;
            rc = get_str(l, root, fields[i].key, &v, err);
            if (rc == 0)
                bind_text(s, fields[i].column, v);
        }
        if (rc)
            return rc;
    }
    return step_done(l, s, err);
}

/* ---- Cost Explorer (organization/cost-and-usage*.json) ------------------ */

/* The CloudTrail usage types (without a region prefix) and their kind. */
static const struct {
    const char *name;
    const char *kind;
} cost_usage_types[] = {
    {"FreeEventsRecorded", "free_events"},
    {"PaidEventsRecorded", "paid_events"},
    {"DataEventsRecorded", "data_events"},
    {"NetworkEventsRecorded", "network_events"},
    {"InsightsEvents", "insights_events"},
    {"DataInsightsEvents", "data_insights_events"},
};

/* usage_kind of a usage type without its region prefix. */
static const char *cost_usage_kind(const char *name)
{
    for (size_t i = 0;
         i < sizeof(cost_usage_types) / sizeof(cost_usage_types[0]); i++)
        if (strcmp(name, cost_usage_types[i].name) == 0)
            return cost_usage_types[i].kind;
    if (strstr(name, "NetworkActivity") && strstr(name, "Events"))
        return "network_events";
    /* CloudTrail Lake: ingestion, storage/retention and query (bytes
     * scanned) of event data stores */
    if (strstr(name, "Lake") || strstr(name, "Ingest") ||
        strstr(name, "Scanned") || strstr(name, "Retention") ||
        strstr(name, "EventDataStore"))
        return "lake";
    return "other";
}

static int is_cost_usage_type(const char *name)
{
    for (size_t i = 0;
         i < sizeof(cost_usage_types) / sizeof(cost_usage_types[0]); i++)
        if (strcmp(name, cost_usage_types[i].name) == 0)
            return 1;
    return 0;
}

/*
 * Splits usage_type into its region (usage_type_regions, by the text before
 * the first '-') and kind. A usage type without a known prefix that is a
 * CloudTrail usage type is us-east-1's (AWS bills us-east-1 without a
 * prefix); anything else gets region NULL and a warning. *region is a
 * copy in region_buf.
 */
static int cost_region(struct loader *l, const char *usage_type,
                       char *region_buf, size_t size, const char **region,
                       const char **kind, struct ct_error *err)
{
    const char *dash = strchr(usage_type, '-');
    char prefix[16];
    *region = NULL;
    *kind = cost_usage_kind(usage_type);
    if (dash && (size_t)(dash - usage_type) < sizeof(prefix)) {
        memcpy(prefix, usage_type, (size_t)(dash - usage_type));
        prefix[dash - usage_type] = '\0';
        sqlite3_stmt *s = stmt(l, ST_USAGE_REGION);
        bind_text(s, 2, prefix);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW) {
            snprintf(region_buf, size, "%s",
                     (const char *)sqlite3_column_text(s, 0));
            *region = region_buf;
            *kind = cost_usage_kind(dash + 1);
            return 0;
        }
        if (r != SQLITE_DONE)
            return sql_error(l, err);
    }
    if (is_cost_usage_type(usage_type)) {
        snprintf(region_buf, size, "us-east-1");
        *region = region_buf;
        return 0;
    }
    char msg[300];
    snprintf(msg, sizeof(msg),
             "usage type '%s' has no known region prefix: region left NULL",
             usage_type);
    add_warning(l, l->member, msg);
    return 0;
}

/* A metric {"Amount": "<decimal>", "Unit": "..."}: absent is NULL; an
 * Amount that is not a string holding a finite number fails. */
static int cost_metric(struct loader *l, const json_t *metrics,
                       const char *name, const char *where, double *amount,
                       int *present, const char **unit, struct ct_error *err)
{
    json_t *m = json_object_get(metrics, name);
    *present = 0;
    if (unit)
        *unit = NULL;
    if (!m || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return shape_error(l, err, "%s.Metrics.%s is not an object", where,
                           name);
    json_t *a = json_object_get(m, "Amount");
    const char *text = json_string_value(a);
    char *end = NULL;
    if (!text)
        return shape_error(l, err, "%s.Metrics.%s.Amount is not a string",
                           where, name);
    errno = 0;
    /* decimal only: no blanks, hexadecimal, inf or nan */
    double v =
        text[0] && !isspace((unsigned char)text[0]) && !strpbrk(text, "xXnN")
            ? strtod(text, &end)
            : 0.0;
    if (!end || *end || errno == ERANGE || !isfinite(v))
        return shape_error(l, err,
                           "%s.Metrics.%s.Amount is not a number: '%.40s'",
                           where, name, text);
    json_t *u = json_object_get(m, "Unit");
    if (u && !json_is_null(u) && !json_is_string(u))
        return shape_error(l, err, "%s.Metrics.%s.Unit is not a string", where,
                           name);
    if (unit)
        *unit = json_string_value(u);
    *amount = v;
    *present = 1;
    return 0;
}

static int load_cost_group(struct loader *l, const json_t *g, const char *where,
                           const char *start, const char *end, int estimated,
                           struct ct_error *err)
{
    json_t *keys = json_object_get(g, "Keys");
    const char *account = json_string_value(json_array_get(keys, 0));
    const char *usage_type = json_string_value(json_array_get(keys, 1));
    const char *region, *kind, *currency;
    char region_buf[CT_REGION_MAX + 1];
    double qty = 0, cost = 0;
    int has_qty, has_cost, rc;
    if (!json_is_object(g))
        return shape_error(l, err, "%s is not an object", where);
    if (!json_is_array(keys) || json_array_size(keys) != 2 || !account ||
        !usage_type || !usage_type[0])
        return shape_error(
            l, err, "%s.Keys is not [LINKED_ACCOUNT, USAGE_TYPE]", where);
    json_t *metrics = json_object_get(g, "Metrics");
    if (metrics && !json_is_null(metrics) && !json_is_object(metrics))
        return shape_error(l, err, "%s.Metrics is not an object", where);
    if ((rc = cost_metric(l, metrics, "UsageQuantity", where, &qty, &has_qty,
                          NULL, err)) ||
        (rc = cost_metric(l, metrics, "UnblendedCost", where, &cost, &has_cost,
                          &currency, err)) ||
        (rc = cost_region(l, usage_type, region_buf, sizeof(region_buf),
                          &region, &kind, err)))
        return rc;
    sqlite3_stmt *s = stmt(l, ST_COST);
    bind_text(s, 2, l->member);
    bind_text(s, 3, start);
    bind_text(s, 4, end);
    bind_tri(s, 5, estimated);
    bind_text(s, 6, account[0] ? account : NULL);
    bind_text(s, 7, usage_type);
    if (region)
        sqlite3_bind_text(s, 8, region, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 8);
    bind_text(s, 9, kind);
    if (has_qty)
        sqlite3_bind_double(s, 10, qty);
    else
        sqlite3_bind_null(s, 10);
    if (has_cost)
        sqlite3_bind_double(s, 11, cost);
    else
        sqlite3_bind_null(s, 11);
    bind_text(s, 12, currency);
    return step_done(l, s, err);
}

/* One row per ResultsByTime[] x Groups[] (aws ce get-cost-and-usage output
 * of CLI v1 and v2 alike, or the raw answer). */
static int load_costs(struct loader *l, const json_t *root,
                      struct ct_error *err)
{
    json_t *results, *r;
    size_t i;
    int rc = get_array(l, root, "ResultsByTime", &results, 1, err);
    if (rc)
        return rc;
    json_array_foreach(results, i, r)
    {
        char where[96];
        json_t *groups, *g;
        const char *start, *end;
        int estimated;
        size_t k;
        snprintf(where, sizeof(where), "ResultsByTime[%zu]", i);
        if (!json_is_object(r))
            return shape_error(l, err, "%s is not an object", where);
        json_t *tp = json_object_get(r, "TimePeriod");
        start = json_string_value(json_object_get(tp, "Start"));
        end = json_string_value(json_object_get(tp, "End"));
        if (!start || !end)
            return shape_error(
                l, err, "%s.TimePeriod has no Start and End strings", where);
        if ((rc = get_bool(l, r, "Estimated", &estimated, err)) ||
            (rc = get_array(l, r, "Groups", &groups, 0, err)))
            return rc;
        json_array_foreach(groups, k, g)
        {
            char gwhere[128];
            snprintf(gwhere, sizeof(gwhere), "%s.Groups[%zu]", where, k);
            if ((rc =
                     load_cost_group(l, g, gwhere, start, end, estimated, err)))
                return rc;
        }
    }
    return 0;
}

/* Consumer: one member, in archive order. */
static int consume_member(struct loader *l, struct pipe_item *it,
                          struct ct_error *err)
{
    const struct ct_member_ref *ref = &it->ref;
    json_t *root = it->root;
    int rc = 0;

    l->member = it->path;
    l->members++;
    l->bytes += it->size;

    /* its digest and SHA256SUMS' lines are in l->paths already: the
     * reader thread keeps them (pipeline_run) */
    if (ref->kind == CT_MEMBER_UNKNOWN) {
        /* a top-level README.md documents a dump (the fixtures have one):
         * ignored without a warning, as schema/SNAPSHOT.md says */
        if (strcmp(it->path, "README.md") != 0)
            add_warning(l, it->path, "not part of the snapshot format: ignored");
        return 0;
    }
    if (ref->kind == CT_MEMBER_DIRECTORY)
        return 0;
    if (ref->kind == CT_MEMBER_CHECKSUMS)
        return 0;
    if (it->parse_rc)
        return ct_error_set(err, it->parse_rc, "%s", it->msg);
    l->recognized++;
    if (ref->account[0] && (rc = touch_account(l, ref->account, err)))
        return rc;

    switch (ref->kind) {
    case CT_MEMBER_MANIFEST:
        rc = load_manifest(l, root, err);
        break;
    case CT_MEMBER_ORG_DESCRIBE:
        rc = load_org(l, root, err);
        break;
    case CT_MEMBER_ORG_ACCOUNTS:
        rc = load_org_accounts(l, root, err);
        break;
    case CT_MEMBER_ORG_COSTS:
        rc = load_costs(l, root, err);
        break;
    case CT_MEMBER_ORG_ERROR:
        rc = load_error(l, ref, "organization", root, err);
        break;
    case CT_MEMBER_IDENTITY:
        rc = load_identity(l, ref, root, err);
        break;
    case CT_MEMBER_ALIASES:
        rc = load_aliases(l, ref, root, err);
        break;
    case CT_MEMBER_REGIONS:
        rc = load_regions(l, ref, root, err);
        break;
    case CT_MEMBER_ACCOUNT_ERROR:
        rc = load_error(l, ref, "account", root, err);
        break;
    case CT_MEMBER_ACCOUNT_OP_ERROR:
        rc = load_error(l, ref, "account_operation", root, err);
        break;
    case CT_MEMBER_DESCRIBE_TRAILS:
        rc = load_describe_trails(l, ref, root, err);
        break;
    case CT_MEMBER_EVENT_SELECTORS:
        rc = load_event_selectors(l, ref, root, err);
        break;
    case CT_MEMBER_INSIGHT_SELECTORS:
        rc = load_insight_selectors(l, ref, root, err);
        break;
    case CT_MEMBER_TRAIL_STATUS:
        rc = load_trail_status(l, ref, root, err);
        break;
    case CT_MEMBER_REGION_ERROR:
        rc = load_error(l, ref, "region", root, err);
        break;
    default:
        break;
    }
    return rc;
}

static void on_pipeline_warning(void *ctx, const char *path, const char *msg)
{
    add_warning(ctx, path, msg);
}

static int on_pipeline_member(void *ctx, struct pipe_item *it,
                              struct ct_error *err)
{
    return consume_member(ctx, it, err);
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *p = path + n;
    while (p > path && p[-1] != '/')
        p--;
    return p;
}

int load_snapshot(sqlite3 *db, const char *source,
                  const struct load_options *opt, sqlite3_int64 *out_id,
                  struct ct_error *err)
{
    struct load_options defaults = LOAD_OPTIONS_INIT;
    struct loader l;
    sqlite3_stmt *s = NULL;
    int rc = 0;
    char label[256];

    memset(&l, 0, sizeof(l));
    l.seen.value_size = 17;
    l.paths.value_size = sizeof(struct member_state);
    l.db = db;
    l.source = source;
    l.opt = opt ? opt : &defaults;
    l.member = "";

    snprintf(label, sizeof(label), "%s", base_name(source));
    {
        size_t n = strlen(label);
        while (n > 1 && label[n - 1] == '/')
            label[--n] = '\0';
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO snapshots (source, label, "
                           "has_manifest, verified) VALUES (?1, ?2, 0, 0)",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    bind_text(s, 1, source);
    bind_text(s, 2, label);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    l.snapshot_id = sqlite3_last_insert_rowid(db);

    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &l.st[i], NULL) != SQLITE_OK) {
            rc = ct_error_set(err, CT_ESQL, "preparing statement %d: %s", i,
                              sqlite3_errmsg(db));
            goto done;
        }
    }

    rc = pipeline_run(source, &l.opt->limits, &l.paths, on_pipeline_member,
                      on_pipeline_warning, &l, err);
    if (rc)
        goto done;
    if (l.members == 0) {
        rc = ct_error_set(err, CT_EPARSE, "empty snapshot: no members");
        goto done;
    }
    if (l.recognized == 0) {
        rc = ct_error_set(err, CT_EPARSE,
                          "empty snapshot: no member of the snapshot format "
                          "(manifest.json, organization/, accounts/)");
        goto done;
    }
    l.member = CT_SNAPSHOT_MANIFEST;
    if (l.has_manifest && l.opt->verify
        && (rc = verify_members(&l.paths, l.sums_expected, err)))
        goto done;

    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE snapshots SET members = ?2, bytes = ?3, "
                           "verified = ?4 WHERE snapshot_id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(s, 1, l.snapshot_id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)l.members);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)l.bytes);
    sqlite3_bind_int(s, 4, l.has_manifest && l.opt->verify);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (l.has_manifest && !l.opt->verify)
        add_warning(&l, CT_SNAPSHOT_MANIFEST,
                    "manifest not verified (--no-verify)");
    if (out_id)
        *out_id = l.snapshot_id;
done:
    sqlite3_finalize(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(l.st[i]);
    strmap_release(&l.seen);
    strmap_release(&l.paths);
    return rc;
}

/* Statistics for the planner of the views, the rules and `ctaudit sql`:
 * every table but trail_sightings, which is only ever looked up by its
 * whole primary key (v_coverage's `listed`), a plan that statistics do not
 * change; analyzing its rows was 0.03 s of the load of 10,000 accounts. */
static int analyze(sqlite3 *db, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_schema WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite_%' AND name "
                           "<> 'trail_sightings' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("ANALYZE main.\"%w\"",
                                    (const char *)sqlite3_column_text(st, 0));
        rc = sql ? db_exec(db, sql, err)
                 : ct_error_set(err, CT_ENOMEM, "out of memory");
        sqlite3_free(sql);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    return rc;
}

/* Loads every snapshot of inputs into db, in one transaction, and gives
 * the load's memory back. */
static int load_all(sqlite3 *db, const char *const *inputs, int n_inputs,
                    const struct load_options *opt, struct ct_error *err)
{
    int rc;
    if ((rc = db_exec(db, "BEGIN", err)))
        return rc;
    for (int i = 0; i < n_inputs; i++) {
        struct ct_error inner = CT_ERROR_INIT;
        rc = load_snapshot(db, inputs[i], opt, NULL, &inner);
        if (rc)
            return ct_error_set(err, rc, "cannot load '%s': %s", inputs[i],
                                inner.message);
    }
    double t = trace_start();
    if ((rc = analyze(db, err)))
        return rc;
    trace_perf(t, "load: analyze");
    t = trace_start();
    if ((rc = db_exec(db, "COMMIT", err))
        || (rc = db_exec(db, "PRAGMA shrink_memory", err)))
        return rc;
    trace_perf(t, "load: commit");
    /* give the load's freed memory back before the report needs its own */
    malloc_trim(0);
    return 0;
}

static int refuse_databases(const char *const *inputs, int n_inputs,
                            struct ct_error *err)
{
    for (int i = 0; i < n_inputs; i++)
        if (db_is_database_file(inputs[i]))
            return ct_error_set(err, CT_EINVAL,
                                "'%s' is a database: give one database, or "
                                "snapshots only",
                                inputs[i]);
    return 0;
}

int load_open_input(sqlite3 **out, const char *const *inputs, int n_inputs,
                    const struct load_options *opt, struct ct_error *err)
{
    sqlite3 *db = NULL;
    int rc = 0;

    if (n_inputs == 1 && db_is_database_file(inputs[0]))
        return db_open_readonly(out, inputs[0], err);
    if ((rc = refuse_databases(inputs, n_inputs, err)))
        return rc;
    /* "" is SQLite's private temporary on-disk database: pages beyond the
     * cache go to an unlinked file, so memory stays bounded whatever the
     * snapshot's size */
    if ((rc = db_create(&db, "", err))
        || (rc = load_all(db, inputs, n_inputs, opt, err)))
        goto done;
    *out = db;
    db = NULL;
done:
    sqlite3_close(db);
    return rc;
}

int load_open_scratch(sqlite3 **out, const char *path,
                      const char *const *inputs, int n_inputs,
                      const struct load_options *opt, struct ct_error *err)
{
    sqlite3 *db = NULL;
    int rc = 0;

    if ((rc = refuse_databases(inputs, n_inputs, err))
        || (rc = db_create_scratch(&db, path, err))
        || (rc = load_all(db, inputs, n_inputs, opt, err))
        /* other connections may read it from now on */
        || (rc = db_exec(db, "PRAGMA locking_mode = NORMAL", err)))
        goto done;
    *out = db;
    db = NULL;
done:
    sqlite3_close(db);
    return rc;
}
