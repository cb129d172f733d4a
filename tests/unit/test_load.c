/*
 * Unit tests of the loader's parsers: small snapshots written to a temporary
 * directory (or tarball) at test time, loaded into an in-memory database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "analyzer/db.h"
#include "analyzer/load.h"
#include "core/hash.h"

#define ACC "111111111111"
#define ACC_DIR "accounts/" ACC "/"
#define TRAIL_DIR ACC_DIR "us-east-1/trails/" ACC "/main/"
#define ARN "arn:aws:cloudtrail:us-east-1:" ACC ":trail/main"

struct member {
    const char *path;
    const char *body;
};

struct fixture {
    char dir[64];
    sqlite3 *db;
};

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
}

static void write_members(const char *dir, const struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, m[i].path);
        mkdirs(path);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(m[i].body, f);
        fclose(f);
    }
}

/* Writes members into a .tar.gz under an optional top folder. */
static void write_tarball(const char *file, const char *top,
                          const struct member *m, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        char name[512];
        struct archive_entry *e = archive_entry_new();
        snprintf(name, sizeof(name), "%s%s", top, m[i].path);
        archive_entry_set_pathname(e, name);
        archive_entry_set_size(e, (la_int64_t)strlen(m[i].body));
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, m[i].body, strlen(m[i].body));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct ct_error err = CT_ERROR_INIT;
    snprintf(f->dir, sizeof(f->dir), "%s/ctload.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(db_create(&f->db, ":memory:", &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    sqlite3_close(f->db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int load_dir(struct fixture *f, const struct member *m, size_t n,
                    struct ct_error *err)
{
    char dir[128];
    static int counter;
    snprintf(dir, sizeof(dir), "%s/snap%d", f->dir, counter++);
    mkdir(dir, 0700);
    write_members(dir, m, n);
    return load_snapshot(f->db, dir, NULL, NULL, err);
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void expect_text(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW)
        fail_msg("%s: no row", sql);
    const char *got = (const char *)sqlite3_column_text(s, 0);
    if (!want) {
        if (got)
            fail_msg("%s: got '%s', want NULL", sql, got);
    } else if (!got || strcmp(got, want) != 0) {
        fail_msg("%s: got '%s', want '%s'", sql, got ? got : "NULL", want);
    }
    sqlite3_finalize(s);
}

static const char describe_trails[] =
    "{\"trailList\": [{\"Name\": \"main\", \"TrailARN\": \"" ARN "\","
    " \"HomeRegion\": \"us-east-1\", \"IsMultiRegionTrail\": true,"
    " \"IsOrganizationTrail\": false, \"IncludeGlobalServiceEvents\": true,"
    " \"S3BucketName\": \"logs\", \"KmsKeyId\": null,"
    " \"HasCustomEventSelectors\": true, \"HasInsightSelectors\": false}]}";

static void test_load_describe_trails_and_sightings(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    const struct member m[] = {
        {ACC_DIR "us-east-1/describe-trails.json", describe_trails},
        {ACC_DIR "eu-west-1/describe-trails.json", describe_trails},
    };
    assert_int_equal(load_dir(f, m, 2, &err), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM trails"), 1);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM trail_sightings"), 2);
    assert_int_equal(scalar(f->db, "SELECT is_shadow FROM trail_sightings "
                                   "WHERE region = 'eu-west-1'"),
                     1);
    assert_int_equal(scalar(f->db, "SELECT is_multi_region FROM trails"), 1);
    expect_text(f->db, "SELECT kms_key_id FROM trails", NULL);
    expect_text(f->db, "SELECT owner_account_id FROM trails", ACC);
    expect_text(f->db, "SELECT partition FROM trails", "aws");
    assert_int_equal(scalar(f->db, "SELECT has_folder FROM accounts"), 1);
}

static void test_load_event_selectors_basic_and_advanced(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    const struct member m[] = {
        {TRAIL_DIR "get-event-selectors.json",
         "{\"TrailARN\": \"" ARN "\", \"EventSelectors\": [{"
         "\"ReadWriteType\": \"WriteOnly\", \"IncludeManagementEvents\": true,"
         "\"ExcludeManagementEventSources\": [\"kms.amazonaws.com\"],"
         "\"DataResources\": [{\"Type\": \"AWS::S3::Object\", \"Values\": "
         "[\"arn:aws:s3:::a/\", \"arn:aws:s3:::b/\"]}]}],"
         "\"AdvancedEventSelectors\": [{\"Name\": \"net\", \"FieldSelectors\":"
         " [{\"Field\": \"eventCategory\", \"Equals\": [\"NetworkActivity\"]},"
         " {\"Field\": \"eventSource\", \"Equals\": [\"ec2.amazonaws.com\"],"
         " \"NotStartsWith\": [\"x\"]}]}]}"},
    };
    assert_int_equal(load_dir(f, m, 1, &err), 0);
    expect_text(f->db, "SELECT read_write_type FROM event_selectors",
                "WriteOnly");
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM data_resources"), 2);
    expect_text(f->db,
                "SELECT event_source FROM event_selector_excluded_sources",
                "kms.amazonaws.com");
    assert_int_equal(
        scalar(f->db, "SELECT count(*) FROM advanced_field_selectors"), 3);
    expect_text(f->db,
                "SELECT value FROM advanced_field_selectors WHERE operator = "
                "'NotStartsWith'",
                "x");
    expect_text(f->db, "SELECT trail_arn FROM trail_documents", ARN);
}

static void test_load_insights_and_status_from_path(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    const struct member m[] = {
        {TRAIL_DIR "get-insight-selectors.json",
         "{\"TrailARN\": \"" ARN "\", \"InsightSelectors\": ["
         "{\"InsightType\": \"ApiErrorRateInsight\", \"EventCategories\": "
         "[\"Data\", \"Management\"]}, {\"InsightType\": "
         "\"ApiCallRateInsight\"}]}"},
        /* GetTrailStatus has no TrailARN: it comes from the path */
        {TRAIL_DIR "get-trail-status.json",
         "{\"IsLogging\": false, \"LatestDeliveryTime\": 1454022144.869,"
         " \"StartLoggingTime\": \"2016-01-28T23:02:24+00:00\","
         " \"LatestDeliveryError\": null}"},
    };
    assert_int_equal(load_dir(f, m, 2, &err), 0);
    expect_text(f->db,
                "SELECT event_categories FROM insight_selectors WHERE "
                "insight_type = 'ApiErrorRateInsight'",
                "Data,Management");
    expect_text(f->db,
                "SELECT event_categories FROM insight_selectors WHERE "
                "insight_type = 'ApiCallRateInsight'",
                "Management");
    expect_text(f->db, "SELECT trail_arn FROM trail_status", ARN);
    assert_int_equal(scalar(f->db, "SELECT is_logging FROM trail_status"), 0);
    expect_text(f->db, "SELECT latest_delivery_time FROM trail_status",
                "2016-01-28T23:02:24.869Z");
    expect_text(f->db, "SELECT start_logging_time FROM trail_status",
                "2016-01-28T23:02:24Z");
}

static void test_load_accounts_regions_errors(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    const struct member m[] = {
        {"organization/list-accounts.json",
         "{\"Accounts\": [{\"Id\": \"" ACC "\", \"Name\": \"dev\", \"Status\":"
         " \"ACTIVE\", \"JoinedTimestamp\": 1481830215.45}, {\"Id\": "
         "\"222222222222\", \"Name\": \"sec\", \"Status\": \"ACTIVE\"}]}"},
        {ACC_DIR "aliases.json", "{\"AccountAliases\": [\"dev-alias\"]}"},
        {ACC_DIR "identity.json",
         "{\"Account\": \"" ACC "\", \"Arn\": \"arn:aws:sts::" ACC
         ":assumed-role/r/s\", \"UserId\": \"AROA:s\"}"},
        {ACC_DIR "regions.json",
         "{\"Regions\": [{\"RegionName\": \"us-east-1\", \"OptInStatus\": "
         "\"opt-in-not-required\"}, {\"RegionName\": \"af-south-1\", "
         "\"OptInStatus\": \"not-opted-in\"}]}"},
        {"accounts/222222222222/error.json",
         "{\"Operation\": \"AssumeRole\", \"Code\": \"AccessDenied\", "
         "\"Message\": \"no\", \"ProbableCauses\": [\"role missing\"]}"},
        {ACC_DIR "us-east-1/errors/GetTrailStatus." ACC ".main.json",
         "{\"Operation\": \"GetTrailStatus\", \"Code\": \"Throttling\"}"},
    };
    assert_int_equal(load_dir(f, m, 6, &err), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM accounts"), 2);
    expect_text(f->db, "SELECT alias FROM accounts WHERE account_id = '" ACC
                       "'",
                "dev-alias");
    expect_text(f->db, "SELECT joined_at FROM accounts WHERE account_id = '"
                       ACC "'",
                "2016-12-15T19:30:15.450Z");
    assert_int_equal(scalar(f->db, "SELECT enabled FROM account_regions "
                                   "WHERE region = 'af-south-1'"),
                     0);
    expect_text(f->db, "SELECT code FROM errors WHERE scope = 'account'",
                "AccessDenied");
    expect_text(f->db,
                "SELECT probable_causes FROM errors WHERE scope = 'account'",
                "role missing");
    expect_text(f->db, "SELECT trail_name FROM errors WHERE scope = 'region'",
                "main");
}

static void expect_load_error(struct fixture *f, const char *path,
                              const char *body, const char *needle)
{
    struct ct_error err = CT_ERROR_INIT;
    const struct member m[] = {{path, body}};
    assert_int_not_equal(load_dir(f, m, 1, &err), 0);
    if (!strstr(err.message, needle) || !strstr(err.message, path))
        fail_msg("error '%s' lacks '%s' or the member name", err.message,
                 needle);
}

static void test_load_shape_errors_name_member(void **state)
{
    struct fixture *f = *state;
    expect_load_error(f, ACC_DIR "us-east-1/describe-trails.json",
                      "{\"trailList\": {}}", "'trailList' is not an array");
    expect_load_error(f, ACC_DIR "us-east-1/describe-trails.json",
                      "{\"trailList\": [{\"TrailARN\": \"" ARN
                      "\", \"Name\": 5}]}",
                      "'Name' is not a string");
    expect_load_error(f, ACC_DIR "us-east-1/describe-trails.json",
                      "{\"trailList\": [\n  {\"TrailARN\": }]}",
                      "line 2, column");
    expect_load_error(f, ACC_DIR "us-east-1/describe-trails.json", "[]",
                      "expected a JSON object");
    expect_load_error(f, ACC_DIR "us-east-1/describe-trails.json",
                      "{\"trailList\": [{\"TrailARN\": \"arn:aws:s3:::x\"}]}",
                      "invalid TrailARN");
    expect_load_error(f, ACC_DIR "regions.json", "{}",
                      "'Regions' is missing");
    expect_load_error(f, TRAIL_DIR "get-trail-status.json",
                      "{\"IsLogging\": \"yes\"}", "'IsLogging' is not a "
                                                  "boolean");
    expect_load_error(f, TRAIL_DIR "get-trail-status.json",
                      "{\"LatestDeliveryTime\": \"soon\"}",
                      "not a valid time");
    expect_load_error(f, TRAIL_DIR "get-event-selectors.json",
                      "{\"EventSelectors\": [{\"ReadWriteType\": \"Some\"}]}",
                      "unknown ReadWriteType");
    expect_load_error(f, "manifest.json",
                      "{\"format\": \"ctaudit-snapshot\", "
                      "\"format_version\": 99}",
                      "unknown snapshot format version 99");
}

static void test_load_conflicting_trail_prefers_owner_listing(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    /* a member account's listing says not multi-region; the owner's home
     * listing says multi-region: the owner's wins, with a warning */
    const struct member m[] = {
        {"accounts/000000000001/us-east-1/describe-trails.json",
         "{\"trailList\": [{\"TrailARN\": \"" ARN
         "\", \"IsMultiRegionTrail\": false}]}"},
        {ACC_DIR "us-east-1/describe-trails.json",
         "{\"trailList\": [{\"TrailARN\": \"" ARN
         "\", \"IsMultiRegionTrail\": true}]}"},
    };
    assert_int_equal(load_dir(f, m, 2, &err), 0);
    assert_int_equal(scalar(f->db, "SELECT is_multi_region FROM trails"), 1);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM load_warnings WHERE "
                                   "message LIKE '%different configurations%'"),
                     1);
}

static void test_load_tarball_with_top_folder_and_manifest(void **state)
{
    struct fixture *f = *state;
    struct ct_error err = CT_ERROR_INIT;
    char sha[CT_SHA256_HEX_LEN + 1], sums_sha[CT_SHA256_HEX_LEN + 1];
    char sums[256], manifest[1024], tgz[128];
    const char *dt_path = ACC_DIR "us-east-1/describe-trails.json";
    ct_sha256_hex(sha, describe_trails, strlen(describe_trails), NULL);
    snprintf(sums, sizeof(sums), "%s  %s\n", sha, dt_path);
    ct_sha256_hex(sums_sha, sums, strlen(sums), NULL);
    snprintf(manifest, sizeof(manifest),
             "{\"format\": \"ctaudit-snapshot\", \"format_version\": 1, "
             "\"complete\": true, \"checksums\": {\"file\": \"SHA256SUMS\", "
             "\"sha256\": \"%s\"}}",
             sums_sha);
    const struct member m[] = {{dt_path, describe_trails},
                               {"SHA256SUMS", sums},
                               {"manifest.json", manifest}};
    snprintf(tgz, sizeof(tgz), "%s/s.tgz", f->dir);
    write_tarball(tgz, "./mydump/", m, 3);
    assert_int_equal(load_snapshot(f->db, tgz, NULL, NULL, &err), 0);
    assert_int_equal(scalar(f->db, "SELECT verified FROM snapshots"), 1);
    assert_int_equal(scalar(f->db, "SELECT complete FROM snapshots"), 1);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM trails"), 1);

    /* a member that differs from SHA256SUMS is refused, naming it */
    const struct member bad[] = {{dt_path, "{\"trailList\": []}"},
                                 {"SHA256SUMS", sums},
                                 {"manifest.json", manifest}};
    snprintf(tgz, sizeof(tgz), "%s/bad.tgz", f->dir);
    write_tarball(tgz, "", bad, 3);
    ct_error_clear(&err);
    assert_int_equal(load_snapshot(f->db, tgz, NULL, NULL, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, dt_path));

    /* SHA256SUMS edited to match: the manifest's hash of it catches it */
    char sums2[256];
    ct_sha256_hex(sha, "{\"trailList\": []}", 15, NULL);
    snprintf(sums2, sizeof(sums2), "%s  %s\n", sha, dt_path);
    const struct member bad2[] = {{dt_path, "{\"trailList\": []}"},
                                  {"SHA256SUMS", sums2},
                                  {"manifest.json", manifest}};
    snprintf(tgz, sizeof(tgz), "%s/bad2.tgz", f->dir);
    write_tarball(tgz, "", bad2, 3);
    ct_error_clear(&err);
    assert_int_equal(load_snapshot(f->db, tgz, NULL, NULL, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, "SHA256SUMS"));

    /* an extra member not listed is refused too */
    const struct member extra[] = {{dt_path, describe_trails},
                                   {"SHA256SUMS", sums},
                                   {"manifest.json", manifest},
                                   {ACC_DIR "aliases.json",
                                    "{\"AccountAliases\": []}"}};
    snprintf(tgz, sizeof(tgz), "%s/extra.tgz", f->dir);
    write_tarball(tgz, "", extra, 4);
    ct_error_clear(&err);
    assert_int_equal(load_snapshot(f->db, tgz, NULL, NULL, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, "aliases.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_load_describe_trails_and_sightings, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_load_event_selectors_basic_and_advanced, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_load_insights_and_status_from_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_accounts_regions_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_shape_errors_name_member,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_load_conflicting_trail_prefers_owner_listing, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_load_tarball_with_top_folder_and_manifest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
