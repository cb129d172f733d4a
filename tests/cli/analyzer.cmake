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
