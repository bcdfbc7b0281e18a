/*
 * jx_err: the error codes of jixiao and the error value that carries the
 * detail of the last failure.
 *
 * Every fallible function returns 0 or a negative JX_E* code and leaves a
 * human-readable message in the calling thread's last error (as libgit2's
 * git_error_last()).  The error value is thread-local: code that fails on a
 * libuv worker thread copies it out (jx_err_save) and the loop thread puts it
 * back (jx_err_restore).  The magnitude of a code is the CLI's exit status.
 */
#ifndef JX_ERR_H
#define JX_ERR_H

#include <stdarg.h>

/* X(name, value, what a user reads) */
#define JX_ERRNO_MAP(X)                                                        \
  X(EINVAL, -1, "invalid input")                                               \
  X(EREFUSED, -2, "refused by a rule")                                         \
  X(ENOTFOUND, -3, "not found")                                                \
  X(ESTORE, -4, "store error")                                                 \
  X(EPLUGIN, -5, "plugin failed")                                             \
  X(EAUTH, -6, "not authenticated")                                            \
  X(ECONN, -7, "daemon connection failed")

enum {
  JX_OK = 0,
#define JX__ERR_ENUM(name, value, text) JX_##name = value,
  JX_ERRNO_MAP(JX__ERR_ENUM)
#undef JX__ERR_ENUM
};

#define JX_ERR_MSG_MAX 1024

typedef struct jx_error {
  int code;                 /* one of JX_E*, or JX_OK when nothing failed */
  char msg[JX_ERR_MSG_MAX]; /* complete sentence, no trailing newline */
} jx_error;

/* Sets the calling thread's last error and returns `code`, so that a failing
 * path reads `return jx_err_set(JX_EINVAL, "...", ...);`. */
int jx_err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "<prefix>: " and returns its code; used
 * to add where (a file, a project) to an error raised deeper down. */
int jx_err_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Keeps the message but changes the code, for a failure that means
 * something else one layer up (bad bytes in the store are a store error,
 * not bad input); returns `code`. */
int jx_err_recode(int code);

/* The calling thread's last error; borrowed, valid until the next jx_err_*. */
const jx_error *jx_err_last(void);

void jx_err_clear(void);
void jx_err_save(jx_error *out);
int jx_err_restore(const jx_error *saved);

/* "invalid input", "store error", ... for a code. */
const char *jx_err_name(int code);

#endif
