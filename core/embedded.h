/*
 * Files embedded in a binary at build time (cmake/embed.cmake): schema.sql
 * and the rules. Every string is NUL-terminated; `length` excludes the NUL.
 */
#ifndef CT_CORE_EMBEDDED_H
#define CT_CORE_EMBEDDED_H

#include <stddef.h>

struct ct_embedded {
    const char *name; /* base file name, e.g. "schema.sql" */
    const char *text;
    size_t length;
};

#endif
