#include "jx_script.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_value.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Reads one command from text[*pos], which may go on over several lines
 * with a backslash before the newline, into line->argv; *lineno counts the
 * lines passed. */
static int split(jx_script_line *line, const char *s, size_t len, size_t *pos,
                 unsigned *lineno, const char *name) {
  jx_buf word = JX_BUF_INIT;
  size_t cap = 0, i = *pos, bol = i; /* bol: where the line began */
  int rc = 0;
  line->lineno = *lineno;
  for (;;) {
    while (i < len && blank(s[i]))
      i++;
    if (i + 1 < len && s[i] == '\\' && s[i + 1] == '\n') {
      i += 2, bol = i, ++*lineno;
      continue;
    }
    if (i < len && s[i] == '#')
      while (i < len && s[i] != '\n')
        i++;
    if (i == len || s[i] == '\n')
      break;
    word.len = 0;
    jx_buf_append(&word, "", 0); /* an empty '' is still a word */
    while (rc == 0 && i < len && !blank(s[i]) && s[i] != '\n') {
      char c = s[i++];
      if (c == '\0') {
        rc = jx_err_set(JX_EINVAL, "%s:%u:%zu: a NUL byte", name, *lineno,
                        i - bol);
      } else if (c == '\'' || c == '"') {
        size_t open = i - bol;
        while (i < len && s[i] != c && s[i] != '\n') {
          if (c == '"' && s[i] == '\\' && i + 1 < len &&
              (s[i + 1] == '"' || s[i + 1] == '\\'))
            i++;
          jx_buf_append(&word, &s[i++], 1);
        }
        if (i == len || s[i] != c)
          rc = jx_err_set(JX_EINVAL, "%s:%u:%zu: unterminated %c quote", name,
                          *lineno, open, c);
        i++;
      } else if (c == '\\' && i < len && s[i] != '\n') {
        jx_buf_append(&word, &s[i++], 1);
      } else {
        jx_buf_append(&word, &c, 1);
      }
    }
    if (rc < 0)
      break;
    if ((size_t)line->argc + 2 > cap) {
      cap = cap ? cap * 2 : 8;
      line->argv = jx_xrealloc(line->argv, cap * sizeof *line->argv);
    }
    line->argv[line->argc++] = jx_xstrdup(word.data);
    line->argv[line->argc] = NULL;
  }
  *pos = i + 1;
  ++*lineno;
  jx_buf_free(&word);
  return rc;
}

static void line_free(jx_script_line *line) {
  for (int i = 0; i < line->argc; i++)
    free(line->argv[i]);
  free(line->argv);
}

int jx_script_parse(jx_script **out, const char *text, size_t len,
                    const char *name) {
  jx_script *s = jx_xcalloc(1, sizeof *s);
  size_t cap = 0, pos = 0;
  unsigned lineno = 1;
  int rc = 0;
  s->name = jx_xstrdup(name);
  while (pos < len && rc == 0) {
    jx_script_line line = {0};
    rc = split(&line, text, len, &pos, &lineno, name);
    if (rc == 0 && line.argc > 0) {
      if (s->nlines == cap) {
        cap = cap ? cap * 2 : 32;
        s->lines = jx_xrealloc(s->lines, cap * sizeof *s->lines);
      }
      s->lines[s->nlines++] = line;
    } else {
      line_free(&line);
    }
  }
  if (rc < 0) {
    jx_script_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int jx_script_load(jx_script **out, const char *path) {
  jx_buf text = JX_BUF_INIT;
  int err = jx_buf_read_file(&text, path, JX_FILE_MAX);
  int rc = err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path,
                            strerror(err))
               : jx_script_parse(out, text.data ? text.data : "", text.len,
                                 path);
  jx_buf_free(&text);
  return rc;
}

void jx_script_free(jx_script *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nlines; i++)
    line_free(&s->lines[i]);
  free(s->lines);
  free(s->name);
  free(s);
}
