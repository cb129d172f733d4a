# ctaudit plan (issue 6): per fixture, the plan leaves no gap, never touches
# an organization trail, and its shell commands call a fake aws with
# exactly the planned argv (tests/cli/plan_check.py); golden outputs for the
# example organization (tests/cli/plan_golden.sh).
set(CT_PLAN_CASES example-org cli-v2-dump raw-api org-trail hostile never-stack multi-account
    insights-data insights-dup insights-org insights-single
    insights-stopped)
file(GLOB CT_PLAN_SEMANTICS LIST_DIRECTORIES true CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/fixtures/semantics/*)
foreach(dir ${CT_PLAN_SEMANTICS})
    if(IS_DIRECTORY ${dir})
        get_filename_component(name ${dir} NAME)
        list(APPEND CT_PLAN_CASES semantics/${name})
    endif()
endforeach()
foreach(case ${CT_PLAN_CASES})
    string(REPLACE "/" "_" test_name ${case})
    add_test(NAME plan_${test_name}
             COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/plan_check.py
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${case})
    set_tests_properties(plan_${test_name} PROPERTIES LABELS cli
                         ENVIRONMENT "LC_ALL=C")
endforeach()
add_test(NAME plan_golden_example-org
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/plan_golden.sh
                 $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} example-org)
set_tests_properties(plan_golden_example-org PROPERTIES LABELS cli)
