# Sources of the engine part of ctcollect (transport, AWS protocols, scan,
# snapshot writer), the library and the executable (main.c and progress.c,
# the only collector code that prints).
set(CT_COLLECTOR_ENGINE_SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/aws.c
    ${CMAKE_CURRENT_SOURCE_DIR}/creds_http.c
    ${CMAKE_CURRENT_SOURCE_DIR}/http.c
    ${CMAKE_CURRENT_SOURCE_DIR}/scan.c
    ${CMAKE_CURRENT_SOURCE_DIR}/snapwriter.c)

add_library(ct_collector STATIC
    ${CT_COLLECTOR_ENGINE_SOURCES}
    ${CT_COLLECTOR_AUTH_SOURCES})
target_link_libraries(ct_collector
    PUBLIC ct_core CURL::libcurl LibXml2::LibXml2 PkgConfig::JANSSON
           PkgConfig::INIH OpenSSL::Crypto LibArchive::LibArchive
    PRIVATE ct_build_flags)

add_executable(ctcollect
    ${CMAKE_CURRENT_SOURCE_DIR}/main.c
    ${CMAKE_CURRENT_SOURCE_DIR}/progress.c)
target_link_libraries(ctcollect PRIVATE ct_collector ct_build_flags)
install(TARGETS ctcollect RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
