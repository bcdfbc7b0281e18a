#include "jx_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s, n >= 1 bytes available.  *valid tells
 * whether it is well formed (Unicode table 3-7, which also rules out
 * overlongs, surrogates and code points above U+10FFFF); if not, the length
 * is that of its maximal subpart, the bytes one U+FFFD stands for (Unicode
 * 3.9, as WHATWG and Python's "replace" do). */
static size_t utf8_seq(const unsigned char *s, size_t n, bool *valid) {
  unsigned char b = s[0], lo = 0x80, hi = 0xbf;
  size_t need;
  if (b < 0x80) {
    *valid = true;
    return 1;
  }
  if (b >= 0xc2 && b <= 0xdf) {
    need = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b == 0xe0)
      lo = 0xa0;
    else if (b == 0xed)
      hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b == 0xf0)
      lo = 0x90;
    else if (b == 0xf4)
      hi = 0x8f;
  } else {
    *valid = false;
    return 1;
  }
  size_t i = 1;
  for (; i < need && i < n; i++) {
    if (s[i] < lo || s[i] > hi)
      break;
    lo = 0x80;
    hi = 0xbf;
  }
  *valid = i == need;
  return i;
}

/* The escape for an ASCII byte JSON does not allow raw, or NULL. */
static const char *escape(unsigned char c, char tmp[8]) {
  switch (c) {
  case '"':
    return "\\\"";
  case '\\':
    return "\\\\";
  case '\b':
    return "\\b";
  case '\f':
    return "\\f";
  case '\n':
    return "\\n";
  case '\r':
    return "\\r";
  case '\t':
    return "\\t";
  }
  if (c >= 0x20)
    return NULL;
  snprintf(tmp, 8, "\\u%04x", c);
  return tmp;
}

static void write_str(jx_buf *out, const char *ptr, size_t len) {
  const unsigned char *s = (const unsigned char *)ptr;
  jx_buf_append(out, "\"", 1);
  size_t plain = 0; /* start of the bytes not yet appended */
  size_t i = 0;
  while (i < len) {
    char tmp[8];
    const char *subst;
    size_t n = 1;
    if (s[i] < 0x80) {
      subst = escape(s[i], tmp);
    } else {
      bool valid;
      n = utf8_seq(s + i, len - i, &valid);
      subst = valid ? NULL : "\xef\xbf\xbd";
    }
    if (subst) {
      jx_buf_append(out, s + plain, i - plain);
      jx_buf_puts(out, subst);
      plain = i + n;
    }
    i += n;
  }
  jx_buf_append(out, s + plain, len - plain);
  jx_buf_append(out, "\"", 1);
}

static void write_float(jx_buf *out, double f) {
  if (!isfinite(f)) {
    jx_buf_puts(out, "null");
    return;
  }
  /* 15 digits print what people type as they typed it; 17 always round
   * trip. */
  char text[32];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, f);
    if (strtod(text, NULL) == f)
      break;
  }
  jx_buf_puts(out, text);
  if (!strpbrk(text, ".e"))
    jx_buf_puts(out, ".0");
}

static void indent(jx_buf *out, size_t depth) {
  jx_buf_append(out, "\n", 1);
  for (size_t i = 0; i < depth; i++)
    jx_buf_append(out, "  ", 2);
}

static void write_value(jx_buf *out, const jx_value *v, bool pretty,
                        size_t depth) {
  switch (v->type) {
  case JX_NIL:
    jx_buf_puts(out, "null");
    break;
  case JX_BOOL:
    jx_buf_puts(out, v->u.b ? "true" : "false");
    break;
  case JX_INT:
    jx_buf_printf(out, "%" PRId64, v->u.i);
    break;
  case JX_FLOAT:
    write_float(out, v->u.f);
    break;
  case JX_STR:
    write_str(out, v->u.s.ptr, v->u.s.len);
    break;
  case JX_ARRAY:
  case JX_MAP: {
    bool map = v->type == JX_MAP;
    size_t n = map ? v->u.m.len : v->u.a.len;
    jx_buf_puts(out, map ? "{" : "[");
    for (size_t i = 0; i < n; i++) {
      if (i)
        jx_buf_puts(out, ",");
      if (pretty)
        indent(out, depth + 1);
      if (map) {
        const char *key = v->u.m.items[i].key;
        write_str(out, key, strlen(key));
        jx_buf_puts(out, pretty ? ": " : ":");
      }
      write_value(out, map ? &v->u.m.items[i].val : &v->u.a.items[i], pretty,
                  depth + 1);
    }
    if (pretty && n)
      indent(out, depth);
    jx_buf_puts(out, map ? "}" : "]");
    break;
  }
  }
}

void jx_json_write(jx_buf *out, const jx_value *v, bool pretty) {
  write_value(out, v, pretty, 0);
}
