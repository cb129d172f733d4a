/*
 * The fuzz harness: one input (the bytes of a snapshot archive) through the
 * whole analyzer path: load into an in-memory database, materialize the
 * views, guard, run the rules, render Markdown, JSON and CSV, and run the
 * `ctaudit sql` renderers. Shared by the libFuzzer target and the replay
 * executable that ctest runs on tests/fuzz/regressions/.
 */
#ifndef CT_TESTS_FUZZ_HARNESS_H
#define CT_TESTS_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Runs one input. Returns 0 whether the input loads or is refused; aborts
 * (so that the fuzzer reports it) when an output breaks its format: JSON
 * that does not parse or lacks keys, a Markdown table row with a different
 * number of cells than its header, a CSV record with the wrong number of
 * fields. (Error messages quote member names verbatim: the CLI prints
 * them sanitized, tests/cli/hostile.sh checks that.)
 */
int fuzz_one(const uint8_t *data, size_t size);

#endif
