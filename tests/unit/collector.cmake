# Unit tests of the collector library (signing and credentials).
if(TARGET ct_collector_auth)
    ct_unit_test(test_sigv4
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sigv4.c
        LIBS ct_collector_auth PkgConfig::JANSSON)
    ct_unit_test(test_credentials
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_credentials.c
        LIBS ct_collector_auth PkgConfig::JANSSON)
endif()
if(TARGET test_credentials AND CT_HAVE_INIH_RUNTIME_OPTIONS)
    target_compile_definitions(test_credentials PRIVATE
        CT_HAVE_INIH_RUNTIME_OPTIONS=1)
endif()
if(TARGET ct_collector_auth)
    ct_unit_test(test_creds_remote
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_creds_remote.c
        LIBS ct_collector_auth PkgConfig::JANSSON)
endif()
