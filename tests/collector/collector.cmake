# ctcollect against moto_server (label collector). Each test prints a
# visible SKIP and exits 77 when moto is not installed.
set(_ct_collector_tests org faults cli providers refresh interrupt resume)
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
    # the profile tests need the real credential chain (branch auth)
    get_target_property(_ct_srcs ct_collector SOURCES)
    if(_ct_srcs MATCHES "tmp_auth_stub")
        set(_ct_stub 1)
    else()
        set(_ct_stub 0)
    endif()
    add_test(NAME collector.profiles
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_profiles.sh
                $<TARGET_FILE:ctcollect>)
    set_tests_properties(collector.profiles PROPERTIES
        LABELS collector
        SKIP_RETURN_CODE 77
        TIMEOUT 300
        ENVIRONMENT "LC_ALL=C;CT_AUTH_STUB=${_ct_stub}")
endif()

# Engine unit tests over a fake transport (no network, no moto).
if(TARGET ct_collector AND COMMAND ct_unit_test)
    ct_unit_test(test_collector_engine
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_collector_engine.c
        LIBS ct_collector)
endif()
