/*
 * jx_toml: the bridge between toml++ (C++) and the rest of jixiao (C).
 *
 * A TOML file is parsed once into a jx_toml_doc, which holds the converted
 * value (a JX_MAP of plain jx_values) and toml++'s parse tree, kept only for
 * the source position of every node: validators find what is wrong in the
 * jx_value and point at it in the file with jx_toml_error_at.
 *
 * Conversion: table -> JX_MAP, array -> JX_ARRAY, string -> JX_STR,
 * integer -> JX_INT, float -> JX_FLOAT, boolean -> JX_BOOL; dates, times
 * and date-times -> JX_STR in their ISO 8601 text ("2021-06-30",
 * "07:32:00.5", "1979-05-27T07:32:00-08:00"; a zero offset prints as "Z").
 *
 * Memory: a doc is the caller's, freed with jx_toml_free; the root value is
 * borrowed from it.  No C++ exception ever leaves this module (it is built
 * without exceptions; out of memory aborts, as jx_xmalloc does).
 * Threads: a loaded doc is read-only and may be read from any thread;
 * errors go to the calling thread's jx_err.
 */
#ifndef JX_TOML_H
#define JX_TOML_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "jx_value.h" /* a C header without extern "C" of its own */

/* Opaque: the converted value, the parse tree and the name used in
 * messages. */
typedef struct jx_toml_doc jx_toml_doc;

/* Parses the TOML file at `path` into *out (the caller's, freed with
 * jx_toml_free).  Returns 0, or JX_EINVAL with the message
 * "path: cannot read: <strerror>" when the file cannot be read, or
 * "path:line:column: <what toml++ found wrong>" on a syntax error (or a key
 * containing a NUL byte, which a C string cannot carry).  *out is set only
 * on success. */
int jx_toml_load(jx_toml_doc **out, const char *path);

/* As jx_toml_load, for `len` bytes of in-memory text; `name` stands in for
 * the path in messages and is copied. */
int jx_toml_load_string(jx_toml_doc **out, const char *text, size_t len,
                        const char *name);

/* The document's top-level table as a JX_MAP; borrowed, valid until
 * jx_toml_free(doc). */
const jx_value *jx_toml_root(const jx_toml_doc *doc);

/* Looks up the source position of the node at `keys`, an array of `n` path
 * segments from the root, array indexes given as decimal strings
 * ({"plugin", "1", "threshold"}).  When that node does not exist, the
 * position of its nearest existing ancestor is given instead; the root
 * itself has no position.  Returns true and sets *line and *col (1-based)
 * if a position was found. */
bool jx_toml_pos(const jx_toml_doc *doc, const char *const *keys, size_t n,
                 unsigned *line, unsigned *col);

/* Sets the calling thread's error to JX_EINVAL with the message
 * "name:line:col: <fmt...>", the position found as by jx_toml_pos, or
 * "name: <fmt...>" when none is, and returns JX_EINVAL.  Validators use it
 * to point at the value they refuse: `return jx_toml_error_at(doc, keys, 2,
 * "...", ...);`.  The arguments may point into the current jx_err message. */
int jx_toml_error_at(const jx_toml_doc *doc, const char *const *keys, size_t n,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Frees doc and everything it owns; NULL is allowed. */
void jx_toml_free(jx_toml_doc *doc);

#ifdef __cplusplus
}
#endif

#endif
