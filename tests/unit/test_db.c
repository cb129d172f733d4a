/* Unit tests of the read-only guard: every way out is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/db.h"

static int setup(void **state)
{
    sqlite3 *db = NULL;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(db_create(&db, ":memory:", &err), 0);
    assert_int_equal(db_exec(db,
                             "INSERT INTO snapshots (source, label, "
                             "has_manifest, verified) VALUES ('s', 's', 0, 0)",
                             &err),
                     0);
    assert_int_equal(db_guard_readonly(db, &err), 0);
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    sqlite3_close(*state);
    return 0;
}

static void expect_refused(sqlite3 *db, const char *sql)
{
    struct ct_error err = CT_ERROR_INIT;
    sqlite3_stmt *st = NULL;
    const char *p = sql;
    int rc = db_prepare_readonly(&st, db, &p, &err);
    if (rc == 0) {
        /* prepared: it must then fail to run */
        int r = st ? sqlite3_step(st) : SQLITE_DONE;
        sqlite3_finalize(st);
        if (r == SQLITE_ROW || r == SQLITE_DONE)
            fail_msg("not refused: %s", sql);
    }
}

static void test_db_guard_refuses_writes_attach_pragmas(void **state)
{
    sqlite3 *db = *state;
    expect_refused(db, "DELETE FROM snapshots");
    expect_refused(db, "INSERT INTO snapshots (source, label, has_manifest, "
                       "verified) VALUES ('x', 'x', 0, 0)");
    expect_refused(db, "UPDATE snapshots SET label = 'x'");
    expect_refused(db, "DROP TABLE trails");
    expect_refused(db, "CREATE TABLE t (x)");
    expect_refused(db, "ATTACH DATABASE '/tmp/ctaudit-attack.db' AS a");
    expect_refused(db, "PRAGMA query_only = 0");
    expect_refused(db, "PRAGMA user_version = 7");
    expect_refused(db, "PRAGMA writable_schema = 1");
    expect_refused(db, "SELECT load_extension('/tmp/x.so')");
    expect_refused(db, "VACUUM INTO '/tmp/ctaudit-copy.db'");
    expect_refused(db, "BEGIN");
    expect_refused(db, "WITH x AS (SELECT 1) DELETE FROM snapshots");
}

static void test_db_guard_allows_reads(void **state)
{
    sqlite3 *db = *state;
    struct ct_error err = CT_ERROR_INIT;
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT count(*) FROM snapshots; PRAGMA user_version";
    assert_int_equal(db_prepare_readonly(&st, db, &sql, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(db_prepare_readonly(&st, db, &sql, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), db_schema_version());
    sqlite3_finalize(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_db_guard_refuses_writes_attach_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_guard_allows_reads, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
