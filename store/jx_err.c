#include "jx_err.h"

#include <stdio.h>
#include <string.h>

static _Thread_local jx_error last;

int jx_err_set(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last.msg, sizeof last.msg, fmt, ap);
  va_end(ap);
  last.code = code;
  return code;
}

int jx_err_wrap(const char *fmt, ...) {
  char prefix[JX_ERR_MSG_MAX];
  char old[JX_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, last.msg, sizeof old);
  /* Truncation is acceptable: the message stays a readable prefix. */
  size_t n = strlen(prefix);
  if (n > sizeof last.msg - 3)
    n = sizeof last.msg - 3;
  memcpy(last.msg, prefix, n);
  memcpy(last.msg + n, ": ", 2);
  size_t room = sizeof last.msg - n - 3;
  size_t m = strnlen(old, room);
  memcpy(last.msg + n + 2, old, m);
  last.msg[n + 2 + m] = '\0';
  return last.code;
}

int jx_err_recode(int code) { return last.code = code; }

const jx_error *jx_err_last(void) { return &last; }

void jx_err_clear(void) {
  last.code = JX_OK;
  last.msg[0] = '\0';
}

void jx_err_save(jx_error *out) { *out = last; }

int jx_err_restore(const jx_error *saved) {
  last = *saved;
  return last.code;
}

const char *jx_err_name(int code) {
  switch (code) {
#define JX__ERR_NAME(name, value, text)                                        \
  case value:                                                                  \
    return text;
    JX_ERRNO_MAP(JX__ERR_NAME)
#undef JX__ERR_NAME
  case JX_OK:
    return "ok";
  }
  return "unknown error";
}
