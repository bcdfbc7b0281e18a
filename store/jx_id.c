#include "jx_id.h"

#include <stdio.h>
#include <string.h>

#include "jx_err.h"

/* Quotes s for a message, escaping control and non-ASCII bytes, so that a
 * hostile id cannot forge terminal output. */
static const char *quoted(const char *s, char *buf, size_t size) {
  size_t o = 0;
  buf[o++] = '"';
  /* Room for one escape (4), then "..." (3), the quote and the NUL. */
  for (; *s && o + 9 <= size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    else
      buf[o++] = (char)c;
  }
  if (*s)
    o += (size_t)snprintf(buf + o, size - o, "...");
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

static int refuse(const char *what, const char *s, const char *why) {
  char q[96];
  return jx_err_set(JX_EINVAL,
                    "%s %s is not valid: %s (use 1 to %d letters, digits, "
                    "'.', '_' or '-')",
                    what, quoted(s, q, sizeof q), why, JX_ID_MAX);
}

int jx_id_check(const char *what, const char *s) {
  size_t n = strlen(s);
  if (n == 0)
    return refuse(what, s, "it is empty");
  if (n > JX_ID_MAX)
    return refuse(what, s, "it is too long");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '/' || c == '\\')
      return refuse(what, s, "it contains a path separator");
    if (c < 0x20 || c == 0x7f)
      return refuse(what, s, "it contains a control character");
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return refuse(what, s, "it contains a character outside the allowed set");
  }
  if (strstr(s, ".."))
    return refuse(what, s, "\"..\" is not allowed");
  if (s[0] == '.' || s[0] == '-')
    return refuse(what, s, "it may not start with '.' or '-'");
  if (s[n - 1] == '.' || (n >= 5 && strcmp(s + n - 5, ".lock") == 0))
    return refuse(what, s, "it may not end with '.' or \".lock\"");
  return 0;
}
