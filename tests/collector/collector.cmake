# ctcollect against moto_server (label collector). Each test prints a
# visible SKIP and exits 77 when moto is not installed.
set(_ct_collector_tests org faults cli providers refresh interrupt resume
    costs soak secrets kill)
foreach(_t IN LISTS _ct_collector_tests)
    add_test(NAME collector.${_t}
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_${_t}.sh
                $<TARGET_FILE:ctcollect>
                ${PROJECT_BINARY_DIR}/analyzer/ctaudit)
    set_tests_properties(collector.${_t} PROPERTIES
        LABELS collector
        SKIP_RETURN_CODE 77
        TIMEOUT 300
        ENVIRONMENT "LC_ALL=C")
endforeach()
if(TARGET ctcollect)
    add_test(NAME collector.profiles
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_profiles.sh
                $<TARGET_FILE:ctcollect>)
    set_tests_properties(collector.profiles PROPERTIES
        LABELS collector
        SKIP_RETURN_CODE 77
        TIMEOUT 300
        ENVIRONMENT "LC_ALL=C")
endif()

# Engine unit tests over a fake transport (no network, no moto).
if(TARGET ct_collector AND COMMAND ct_unit_test)
    ct_unit_test(test_collector_engine
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_collector_engine.c
        LIBS ct_collector)
endif()
