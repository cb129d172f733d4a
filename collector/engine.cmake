# Sources of the engine part of ctcollect (transport, AWS protocols, scan,
# snapshot writer, progress), the library and the executable.
set(CT_COLLECTOR_ENGINE_SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/aws.c
    ${CMAKE_CURRENT_SOURCE_DIR}/awsxml.c
    ${CMAKE_CURRENT_SOURCE_DIR}/http.c
    ${CMAKE_CURRENT_SOURCE_DIR}/progress.c
    ${CMAKE_CURRENT_SOURCE_DIR}/scan.c
    ${CMAKE_CURRENT_SOURCE_DIR}/snapwriter.c)

# Until collector/sigv4.c and credentials.c land (branch auth), a temporary
# stand-in keeps the engine buildable and testable.
if(NOT CT_COLLECTOR_AUTH_SOURCES)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tmp_auth_stub.c)
        set(CT_COLLECTOR_AUTH_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tmp_auth_stub.c)
    endif()
endif()

add_library(ct_collector STATIC
    ${CT_COLLECTOR_ENGINE_SOURCES}
    ${CT_COLLECTOR_AUTH_SOURCES})
target_link_libraries(ct_collector
    PUBLIC ct_core CURL::libcurl LibXml2::LibXml2 PkgConfig::JANSSON
           PkgConfig::INIH OpenSSL::Crypto LibArchive::LibArchive
    PRIVATE ct_build_flags)

add_executable(ctcollect ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
target_link_libraries(ctcollect PRIVATE ct_collector ct_build_flags)
install(TARGETS ctcollect RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
