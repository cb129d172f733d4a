# Rule cases (fixtures/rule-cases.tsv): one ctest per rule.
file(GLOB CT_RULE_SQL CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/rules/*.sql)
foreach(rule_file ${CT_RULE_SQL})
    get_filename_component(rule_id ${rule_file} NAME_WE)
    add_test(NAME rules_${rule_id}
             COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/rule_cases.py
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${rule_id})
    set_tests_properties(rules_${rule_id} PROPERTIES LABELS rules
                         ENVIRONMENT "LC_ALL=C")
endforeach()

# Golden reports: one ctest per fixture with a verdict.
set(CT_GOLDEN_FIXTURES example-org cli-v2-dump raw-api org-trail)
file(GLOB CT_SEMANTICS LIST_DIRECTORIES true CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/fixtures/semantics/*)
foreach(dir ${CT_SEMANTICS})
    if(IS_DIRECTORY ${dir})
        get_filename_component(name ${dir} NAME)
        list(APPEND CT_GOLDEN_FIXTURES semantics/${name})
    endif()
endforeach()
foreach(fixture ${CT_GOLDEN_FIXTURES})
    string(REPLACE "/" "_" test_name ${fixture})
    add_test(NAME golden_${test_name}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/golden.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${fixture})
    set_tests_properties(golden_${test_name} PROPERTIES LABELS cli)
endforeach()

# Bad input: one ctest per case of tests/cli/bad_input.sh.
foreach(case not-json wrong-shape unknown-version hash-mismatch no-verify
        unknown-extra-file truncated-archive corrupt-archive not-an-archive
        empty-directory empty-archive no-format-member member-too-large
        total-too-large decompression-bomb duplicate-member compressions
        existing-db-kept sql-refuses-writes usage fail-on incomplete-snapshot outside-top-folder
        cost-not-a-number cost-wrong-shape)
    add_test(NAME bad_${case}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bad_input.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${case})
    set_tests_properties(bad_${case} PROPERTIES LABELS cli)
endforeach()

# Every fixture loads into one database with the expected rows.
add_test(NAME fixtures_load_counts
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/fixture_counts.py
                 $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR})
set_tests_properties(fixtures_load_counts PROPERTIES LABELS cli)

# Dollars without billing data (estimates, price files).
foreach(case no-basis events-per-month volumes pricing pricing-refused
        volumes-bad billing)
    add_test(NAME costs_${case}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/costs.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${case})
    set_tests_properties(costs_${case} PROPERTIES LABELS cli)
endforeach()

# report SNAPSHOT: the work files in $TMPDIR read by two connections.
foreach(case same-as-database failed-load no-tmpdir signal signal-views)
    add_test(NAME report_work_${case}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/work.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${case})
    set_tests_properties(report_work_${case} PROPERTIES LABELS cli)
endforeach()

# ctaudit diff: golden Markdown and JSON per fixtures/diff/<case>, then the
# other checks of tests/cli/diff.sh.
file(GLOB CT_DIFF_CASES LIST_DIRECTORIES true CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/fixtures/diff/*)
foreach(dir ${CT_DIFF_CASES})
    if(IS_DIRECTORY ${dir})
        get_filename_component(name ${dir} NAME)
        add_test(NAME diff_golden_${name}
                 COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/diff.sh
                         $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} golden ${name})
        set_tests_properties(diff_golden_${name} PROPERTIES LABELS cli)
    endif()
endforeach()
foreach(check database-input same-twice bad-inputs atomic-output fail-on
        dollars)
    add_test(NAME diff_${check}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/diff.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${check})
    set_tests_properties(diff_${check} PROPERTIES LABELS cli)
endforeach()
