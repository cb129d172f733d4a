/* Unit tests of core/timefmt.c: both timestamp shapes to one UTC text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/timefmt.h"

static void test_timefmt_epoch_integer_and_fraction(void **state)
{
    char out[CT_ISO_TIME_MAX];
    (void)state;
    assert_int_equal(ct_time_from_epoch(out, 1454022144.0), 0);
    assert_string_equal(out, "2016-01-28T23:02:24Z");
    assert_int_equal(ct_time_from_epoch(out, 1454022144.869), 0);
    assert_string_equal(out, "2016-01-28T23:02:24.869Z");
    assert_int_equal(ct_time_from_epoch(out, 0), 0);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    assert_int_equal(ct_time_from_epoch(out, 1e300), -1);
}

static void test_timefmt_iso_offsets(void **state)
{
    char out[CT_ISO_TIME_MAX];
    (void)state;
    assert_int_equal(ct_time_from_iso(out, "2016-01-28T23:02:24Z"), 0);
    assert_string_equal(out, "2016-01-28T23:02:24Z");
    assert_int_equal(ct_time_from_iso(out, "2016-01-28T23:02:24+00:00"), 0);
    assert_string_equal(out, "2016-01-28T23:02:24Z");
    /* CLI v2 prints microseconds and the offset */
    assert_int_equal(
        ct_time_from_iso(out, "2016-01-29T01:02:24.869000+02:00"), 0);
    assert_string_equal(out, "2016-01-28T23:02:24.869Z");
    assert_int_equal(ct_time_from_iso(out, "2016-01-28T20:32:24-0230"), 0);
    assert_string_equal(out, "2016-01-28T23:02:24Z");
    /* crossing a year boundary */
    assert_int_equal(ct_time_from_iso(out, "2024-01-01T00:30:00+01:00"), 0);
    assert_string_equal(out, "2023-12-31T23:30:00Z");
}

static void test_timefmt_iso_rejects_garbage(void **state)
{
    char out[CT_ISO_TIME_MAX] = "untouched";
    (void)state;
    assert_int_equal(ct_time_from_iso(out, "yesterday"), -1);
    assert_int_equal(ct_time_from_iso(out, "2016-13-28T23:02:24Z"), -1);
    assert_int_equal(ct_time_from_iso(out, "2016-01-28T23:02:24Zjunk"), -1);
    assert_int_equal(ct_time_from_iso(out, "2016-01-28T23:02:24."), -1);
    assert_string_equal(out, "untouched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timefmt_epoch_integer_and_fraction),
        cmocka_unit_test(test_timefmt_iso_offsets),
        cmocka_unit_test(test_timefmt_iso_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
