#include "jx_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jx_value.h"

static void reserve(jx_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1)
    cap *= 2;
  b->data = jx_xrealloc(b->data, cap);
  b->cap = cap;
}

char *jx_buf_reserve(jx_buf *b, size_t n) {
  reserve(b, n);
  return b->data + b->len;
}

void jx_buf_append(jx_buf *b, const void *p, size_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void jx_buf_puts(jx_buf *b, const char *s) { jx_buf_append(b, s, strlen(s)); }

void jx_buf_printf(jx_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void jx_buf_free(jx_buf *b) {
  free(b->data);
  *b = (jx_buf)JX_BUF_INIT;
}

int jx_buf_read_file(jx_buf *b, const char *path, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return errno;
  char chunk[16384];
  size_t n, total = 0;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if ((total += n) > max) {
      fclose(f);
      return EFBIG;
    }
    jx_buf_append(b, chunk, n);
  }
  int err = ferror(f) ? errno : 0; /* EISDIR shows here, not in fopen */
  fclose(f);
  return err;
}
