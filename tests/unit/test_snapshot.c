/* Unit tests of core/snapshot.c: the member path contract, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/snapshot.h"

static void expect_kind(const char *path, enum ct_member_kind kind)
{
    struct ct_member_ref r;
    ct_snapshot_classify(&r, path);
    if (r.kind != kind)
        fail_msg("%s: kind %s, expected %s", path,
                 ct_member_kind_name(r.kind), ct_member_kind_name(kind));
}

static void test_snapshot_classify_every_kind(void **state)
{
    (void)state;
    expect_kind("manifest.json", CT_MEMBER_MANIFEST);
    expect_kind("SHA256SUMS", CT_MEMBER_CHECKSUMS);
    expect_kind("organization/describe-organization.json",
                CT_MEMBER_ORG_DESCRIBE);
    expect_kind("organization/list-accounts.json", CT_MEMBER_ORG_ACCOUNTS);
    expect_kind("organization/cost-and-usage.json", CT_MEMBER_ORG_COSTS);
    expect_kind("organization/cost-and-usage.2.json", CT_MEMBER_ORG_COSTS);
    expect_kind("organization/errors/ListAccounts.json", CT_MEMBER_ORG_ERROR);
    expect_kind("accounts/111111111111/identity.json", CT_MEMBER_IDENTITY);
    expect_kind("accounts/111111111111/aliases.json", CT_MEMBER_ALIASES);
    expect_kind("accounts/111111111111/regions.json", CT_MEMBER_REGIONS);
    expect_kind("accounts/111111111111/error.json", CT_MEMBER_ACCOUNT_ERROR);
    expect_kind("accounts/111111111111/errors/ListAccountAliases.json",
                CT_MEMBER_ACCOUNT_OP_ERROR);
    expect_kind("accounts/111111111111/eu-west-1/describe-trails.json",
                CT_MEMBER_DESCRIBE_TRAILS);
    expect_kind("accounts/111111111111/eu-west-1/trails/000000000000/org/"
                "get-event-selectors.json",
                CT_MEMBER_EVENT_SELECTORS);
    expect_kind("accounts/111111111111/eu-west-1/trails/000000000000/org/"
                "get-insight-selectors.json",
                CT_MEMBER_INSIGHT_SELECTORS);
    expect_kind("accounts/111111111111/eu-west-1/trails/000000000000/org/"
                "get-trail-status.json",
                CT_MEMBER_TRAIL_STATUS);
    expect_kind("accounts/111111111111/eu-west-1/errors/DescribeTrails.json",
                CT_MEMBER_REGION_ERROR);
    expect_kind("accounts/", CT_MEMBER_DIRECTORY);
    expect_kind("accounts/111111111111/eu-west-1/trails/", CT_MEMBER_DIRECTORY);
}

static void test_snapshot_classify_rejects_malformed(void **state)
{
    (void)state;
    expect_kind("", CT_MEMBER_UNKNOWN);
    expect_kind("/manifest.json", CT_MEMBER_UNKNOWN);
    expect_kind("README.txt", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/1111/identity.json", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/11111111111a/identity.json", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/../identity.json", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/./identity.json", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/eu-west-1/trails/000000000000/../"
                "get-trail-status.json",
                CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/EU_WEST/describe-trails.json",
                CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/eu-west-1/trails/000000000000/t/x.json",
                CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/eu-west-1/errors/Bad-Op.json",
                CT_MEMBER_UNKNOWN);
    expect_kind("organization/errors/ListAccounts.000000000000.t.json",
                CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/identity.json/", CT_MEMBER_UNKNOWN);
}

static void expect_cost_page(const char *path, unsigned long page)
{
    struct ct_member_ref r;
    ct_snapshot_classify(&r, path);
    if (r.kind != CT_MEMBER_ORG_COSTS || r.page != page)
        fail_msg("%s: kind %s page %lu, expected cost-and-usage page %lu",
                 path, ct_member_kind_name(r.kind), r.page, page);
}

/* cost-and-usage.json is page 1, cost-and-usage.<k>.json page k (a
 * positive decimal without leading zeros); nothing else is a cost member. */
static void test_snapshot_cost_pages(void **state)
{
    (void)state;
    expect_cost_page("organization/cost-and-usage.json", 1);
    expect_cost_page("organization/cost-and-usage.1.json", 1);
    expect_cost_page("organization/cost-and-usage.2.json", 2);
    expect_cost_page("organization/cost-and-usage.10.json", 10);
    expect_cost_page("organization/cost-and-usage.999999.json", 999999);
    expect_kind("organization/cost-and-usage.0.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.02.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.1000000.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.-2.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.+2.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.2a.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage..json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.2.json.bak", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage-2026-10.json", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage", CT_MEMBER_UNKNOWN);
    expect_kind("organization/cost-and-usage.json/", CT_MEMBER_UNKNOWN);
    expect_kind("organization/errors/cost-and-usage.json", CT_MEMBER_UNKNOWN);
    expect_kind("cost-and-usage.json", CT_MEMBER_UNKNOWN);
    expect_kind("accounts/111111111111/cost-and-usage.json",
                CT_MEMBER_UNKNOWN);
}

/* Page 1 (and 0, unset) builds cost-and-usage.json, page k > 1
 * cost-and-usage.<k>.json; both classify back to the same page. */
static void test_snapshot_cost_page_paths(void **state)
{
    static const struct {
        unsigned long page, back;
        const char *path;
    } cases[] = {{0, 1, "organization/cost-and-usage.json"},
                 {1, 1, "organization/cost-and-usage.json"},
                 {2, 2, "organization/cost-and-usage.2.json"},
                 {37, 37, "organization/cost-and-usage.37.json"}};
    struct ct_member_ref r;
    char path[CT_MEMBER_PATH_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&r, 0, sizeof(r));
        r.kind = CT_MEMBER_ORG_COSTS;
        r.page = cases[i].page;
        assert_int_equal(ct_snapshot_member_path(path, sizeof(path), &r,
                                                 NULL),
                         0);
        assert_string_equal(path, cases[i].path);
        expect_cost_page(path, cases[i].back);
    }
    r.page = CT_COST_PAGE_MAX + 1;
    assert_int_equal(ct_snapshot_member_path(path, sizeof(path), &r, NULL),
                     CT_EINVAL);
}

static void test_snapshot_error_name_with_dotted_trail(void **state)
{
    struct ct_member_ref r;
    (void)state;
    ct_snapshot_classify(&r, "accounts/111111111111/us-east-1/errors/"
                             "GetTrailStatus.000000000000.my.trail.v2.json");
    assert_int_equal(r.kind, CT_MEMBER_REGION_ERROR);
    assert_string_equal(r.operation, "GetTrailStatus");
    assert_string_equal(r.owner, "000000000000");
    assert_string_equal(r.trail_name, "my.trail.v2");
    assert_string_equal(r.region, "us-east-1");
    assert_string_equal(r.account, "111111111111");
}

/* Every path the collector can build classifies back to the same ref. */
static void test_snapshot_build_classify_roundtrip(void **state)
{
    static const enum ct_member_kind kinds[] = {
        CT_MEMBER_MANIFEST, CT_MEMBER_CHECKSUMS, CT_MEMBER_ORG_DESCRIBE, CT_MEMBER_ORG_ACCOUNTS,
        CT_MEMBER_ORG_COSTS, CT_MEMBER_ORG_ERROR, CT_MEMBER_IDENTITY,
        CT_MEMBER_ALIASES, CT_MEMBER_REGIONS, CT_MEMBER_ACCOUNT_ERROR,
        CT_MEMBER_ACCOUNT_OP_ERROR, CT_MEMBER_DESCRIBE_TRAILS,
        CT_MEMBER_EVENT_SELECTORS, CT_MEMBER_INSIGHT_SELECTORS,
        CT_MEMBER_TRAIL_STATUS, CT_MEMBER_REGION_ERROR};
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct ct_member_ref in, out;
        char path[CT_MEMBER_PATH_MAX];
        memset(&in, 0, sizeof(in));
        in.kind = kinds[i];
        strcpy(in.account, "123456789012");
        strcpy(in.region, "ap-southeast-2");
        strcpy(in.owner, "000000000000");
        strcpy(in.trail_name, "org.trail_1-x");
        strcpy(in.operation, "GetEventSelectors");
        assert_int_equal(ct_snapshot_member_path(path, sizeof(path), &in,
                                                 NULL),
                         0);
        ct_snapshot_classify(&out, path);
        if (out.kind != in.kind)
            fail_msg("%s classified as %s", path,
                     ct_member_kind_name(out.kind));
        if (in.kind >= CT_MEMBER_IDENTITY)
            assert_string_equal(out.account, in.account);
        if (in.kind >= CT_MEMBER_DESCRIBE_TRAILS) {
            assert_string_equal(out.region, in.region);
        }
        if (in.kind >= CT_MEMBER_EVENT_SELECTORS) {
            assert_string_equal(out.owner, in.owner);
            assert_string_equal(out.trail_name, in.trail_name);
        }
    }
}

static void test_snapshot_build_rejects_unsafe(void **state)
{
    struct ct_member_ref r;
    char path[CT_MEMBER_PATH_MAX];
    struct ct_error err = CT_ERROR_INIT;
    (void)state;
    memset(&r, 0, sizeof(r));
    r.kind = CT_MEMBER_TRAIL_STATUS;
    strcpy(r.account, "123456789012");
    strcpy(r.region, "us-east-1");
    strcpy(r.owner, "123456789012");
    strcpy(r.trail_name, "..");
    assert_int_equal(ct_snapshot_member_path(path, sizeof(path), &r, &err),
                     CT_EINVAL);
    strcpy(r.trail_name, "a/b");
    assert_int_equal(ct_snapshot_member_path(path, sizeof(path), &r, NULL),
                     CT_EINVAL);
    strcpy(r.trail_name, "ok");
    assert_int_equal(ct_snapshot_member_path(path, 10, &r, NULL), CT_ELIMIT);
}

static void test_snapshot_partition_of_region(void **state)
{
    (void)state;
    assert_string_equal(ct_region_partition("eu-west-1"), "aws");
    assert_string_equal(ct_region_partition("cn-north-1"), "aws-cn");
    assert_string_equal(ct_region_partition("us-gov-west-1"), "aws-us-gov");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_classify_every_kind),
        cmocka_unit_test(test_snapshot_classify_rejects_malformed),
        cmocka_unit_test(test_snapshot_cost_pages),
        cmocka_unit_test(test_snapshot_cost_page_paths),
        cmocka_unit_test(test_snapshot_error_name_with_dotted_trail),
        cmocka_unit_test(test_snapshot_build_classify_roundtrip),
        cmocka_unit_test(test_snapshot_build_rejects_unsafe),
        cmocka_unit_test(test_snapshot_partition_of_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
