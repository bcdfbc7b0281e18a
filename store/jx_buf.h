/*
 * jx_buf: a growable byte buffer, the output of the codec, the JSON printer
 * and the commit-message builder.  The buffer owns `data`; jx_buf_free
 * releases it.  `data` is always NUL-terminated (not counted in len).
 */
#ifndef JX_BUF_H
#define JX_BUF_H

#include <stddef.h>

typedef struct jx_buf {
  char *data;
  size_t len, cap;
} jx_buf;

#define JX_BUF_INIT                                                            \
  { NULL, 0, 0 }

void jx_buf_append(jx_buf *b, const void *p, size_t n);
void jx_buf_puts(jx_buf *b, const char *s);
void jx_buf_printf(jx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void jx_buf_free(jx_buf *b);

/* Room for n more bytes after len, returned for the caller to fill; the
 * caller then adds what it wrote to len (and keeps data NUL-terminated if
 * it needs that). */
char *jx_buf_reserve(jx_buf *b, size_t n);

/* Appends the whole file at path, if it holds at most max bytes.  Returns
 * 0, or the errno value that stopped it (EISDIR for a directory, EFBIG
 * past max: /dev/zero ends there), leaving what was read; callers word
 * the message, since only they know what the file is for. */
int jx_buf_read_file(jx_buf *b, const char *path, size_t max);

/* The largest configuration, definition or project file read (4 MiB). */
#define JX_FILE_MAX ((size_t)4 << 20)

#endif
