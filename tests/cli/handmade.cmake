# The README's "Snapshot by hand" loop, run against moto with AWS CLI v1 and
# v2 (tests/cli/handmade_dump.sh). Included from tests/cli/CMakeLists.txt.
# The analyzer is passed as a plain path (it may not be built yet: the test
# then checks the dump's layout only and says so).
add_test(NAME cli_handmade_dump
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/handmade_dump.sh
                 ${CMAKE_BINARY_DIR}/analyzer/ctaudit)
set_tests_properties(cli_handmade_dump PROPERTIES
    LABELS cli
    SKIP_RETURN_CODE 77
    TIMEOUT 300)

# The committed fixtures are exactly what fixtures/make_fixtures.py writes.
add_test(NAME fixtures_generated
         COMMAND python3 ${PROJECT_SOURCE_DIR}/fixtures/make_fixtures.py --check)
set_tests_properties(fixtures_generated PROPERTIES LABELS cli TIMEOUT 60)
