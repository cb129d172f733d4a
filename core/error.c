/* Error records: the one place messages are formatted for every library. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_vset(struct ct_error *err, int replace, int code,
                      const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 0)))
#endif
    ;

static int error_vset(struct ct_error *err, int replace, int code,
                      const char *fmt, va_list ap)
{
    if (!err)
        return code;
    if (err->code != 0 && !replace)
        return code;
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

int ct_error_set(struct ct_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, 0, code, fmt, ap);
    va_end(ap);
    return code;
}

int ct_error_reset(struct ct_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, 1, code, fmt, ap);
    va_end(ap);
    return code;
}

void ct_error_clear(struct ct_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->message[0] = '\0';
}

const char *ct_status_name(int code)
{
    switch (code) {
    case CT_OK: return "OK";
    case CT_ENOMEM: return "ENOMEM";
    case CT_EIO: return "EIO";
    case CT_EPARSE: return "EPARSE";
    case CT_EHTTP: return "EHTTP";
    case CT_ESQL: return "ESQL";
    case CT_EINVAL: return "EINVAL";
    case CT_ELIMIT: return "ELIMIT";
    case CT_EVERIFY: return "EVERIFY";
    case CT_EAUTH: return "EAUTH";
    case CT_EDENIED: return "EDENIED";
    }
    return "EUNKNOWN";
}
