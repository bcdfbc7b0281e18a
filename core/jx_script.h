/*
 * jx_script: reads a jx script, the text `jx run` executes: one jx command
 * per line, written as on the command line without the leading `jx`.
 *
 * Words are split as a POSIX shell splits the simple cases: blanks
 * separate words; '...' is taken literally; inside "..." a backslash
 * escapes '"' and '\'; outside quotes a backslash escapes the next
 * character, and before the end of a line joins the next line to it; '#'
 * where a word could start begins a comment.  There are no
 * variables, globs or substitutions, so a script means the same on every
 * machine.  A line with no words is skipped.
 *
 * Memory: a jx_script owns its lines and their words; the caller frees it
 * with jx_script_free.  Errors go to the calling thread's jx_err.
 */
#ifndef JX_SCRIPT_H
#define JX_SCRIPT_H

#include <stddef.h>

typedef struct jx_script_line {
  unsigned lineno; /* 1-based, in the file: where the command begins */
  int argc;
  char **argv; /* argc words, then NULL */
} jx_script_line;

typedef struct jx_script {
  char *name; /* the path, for messages */
  jx_script_line *lines;
  size_t nlines;
} jx_script;

/* Reads the script at path into *out.  JX_EINVAL with "path: cannot
 * read: ..." or "path:line:col: ..." (an unterminated quote, a NUL byte)
 * on failure; *out is set only on success. */
int jx_script_load(jx_script **out, const char *path);

/* As jx_script_load, for len bytes of text; `name` is used in messages and
 * copied. */
int jx_script_parse(jx_script **out, const char *text, size_t len,
                    const char *name);

/* Frees s and everything it owns; NULL is allowed. */
void jx_script_free(jx_script *s);

#endif
