# Sources of the signing and credentials part of ctcollect (collector/).
# awsxml.c is here because the web identity provider reads STS's XML.
# engine.cmake builds ct_collector from these and its own sources; until
# then (and for the unit tests) ct_collector_auth is built from them alone.
set(CT_COLLECTOR_AUTH_SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/sigv4.c
    ${CMAKE_CURRENT_SOURCE_DIR}/credentials.c
    ${CMAKE_CURRENT_SOURCE_DIR}/creds_remote.c
    ${CMAKE_CURRENT_SOURCE_DIR}/creds_sso.c
    ${CMAKE_CURRENT_SOURCE_DIR}/awsxml.c)

# Debian's libinih exposes its compile-time options (line length, heap line
# buffer) as variables. Session tokens are longer than inih's default
# 200-byte line, so credentials.c raises the limit when it can and refuses
# over-long lines otherwise.
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES ${INIH_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES ${INIH_LINK_LIBRARIES})
check_c_source_compiles("
#include <ini.h>
int main(void)
{
    ini_use_stack = 0;
    ini_allow_realloc = 1;
    ini_max_line = 65536;
    ini_allow_inline_comments = 0;
    return 0;
}" CT_HAVE_INIH_RUNTIME_OPTIONS)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_LIBRARIES)
if(CT_HAVE_INIH_RUNTIME_OPTIONS)
    set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/credentials.c
        PROPERTIES COMPILE_DEFINITIONS CT_HAVE_INIH_RUNTIME_OPTIONS=1)
endif()

add_library(ct_collector_auth STATIC ${CT_COLLECTOR_AUTH_SOURCES})
target_link_libraries(ct_collector_auth
    PUBLIC ct_core PkgConfig::INIH PkgConfig::JANSSON OpenSSL::Crypto
           LibXml2::LibXml2
    PRIVATE ct_build_flags)
