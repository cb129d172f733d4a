/*
 * Error reporting shared by every library in the project.
 *
 * Library functions return 0 on success or a negative enum ct_status, and
 * put a human-readable message into a caller-owned struct ct_error (which may
 * be NULL). There is no global error state.
 */
#ifndef CT_CORE_ERROR_H
#define CT_CORE_ERROR_H

#include <stddef.h>

enum ct_status {
    CT_OK = 0,
    CT_ENOMEM = -1,  /* allocation failed */
    CT_EIO = -2,     /* file or archive I/O failed */
    CT_EPARSE = -3,  /* malformed input (JSON, XML, archive member) */
    CT_EHTTP = -4,   /* transport or HTTP failure */
    CT_ESQL = -5,    /* SQLite failed */
    CT_EINVAL = -6,  /* invalid argument or unsupported input */
    CT_ELIMIT = -7,  /* a documented size limit was exceeded */
    CT_EVERIFY = -8, /* manifest verification failed */
    CT_EAUTH = -9,   /* credentials missing, expired or rejected */
    CT_EDENIED = -10 /* a read-only guard refused an operation */
};

#define CT_ERROR_MSG_MAX 512

struct ct_error {
    int code;
    char message[CT_ERROR_MSG_MAX];
};

#define CT_ERROR_INIT {0, {0}}

/*
 * Records code and a printf-style message in err (if err is not NULL and no
 * error is recorded yet: the first error wins). Returns code, so that a
 * failure is one statement: `return ct_error_set(err, CT_EIO, "...")`.
 */
int ct_error_set(struct ct_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Same as ct_error_set, but replaces any earlier message. */
int ct_error_reset(struct ct_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears err (accepts NULL). */
void ct_error_clear(struct ct_error *err);

/* Short name of a status code ("ENOMEM"...); borrowed, static. */
const char *ct_status_name(int code);

#endif
