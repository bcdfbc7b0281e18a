/*
 * jx_value: the one dynamic value of jixiao.  A project's state, an event,
 * the parameters of a plugin and a parsed TOML file are all jx_values; the
 * codec (msgpack), the TOML bridge, the Lua host and the JSON printer each
 * convert to and from this one shape, so no two modules invent their own.
 *
 * Maps have string keys and keep them sorted (bytewise), so iteration,
 * encoding and printing are deterministic: a replayed decision sees exactly
 * the order the original saw.
 *
 * Ownership: a jx_value owns everything below it.  Setters that take a
 * jx_value take ownership of it; getters return borrowed pointers valid
 * until the container is changed or freed.  Small allocations abort on
 * out-of-memory (jx_xmalloc), as Neovim's xmalloc does.
 * Not thread-safe; a value belongs to one thread at a time.
 */
#ifndef JX_VALUE_H
#define JX_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum jx_type {
  JX_NIL,
  JX_BOOL,
  JX_INT,
  JX_FLOAT,
  JX_STR,
  JX_ARRAY,
  JX_MAP,
} jx_type;

typedef struct jx_value jx_value;
typedef struct jx_pair jx_pair;

struct jx_value {
  jx_type type;
  union {
    bool b;
    int64_t i;
    double f;
    struct {
      char *ptr; /* NUL-terminated; may also contain NULs (len counts) */
      size_t len;
    } s;
    struct {
      jx_value *items;
      size_t len, cap;
    } a;
    struct {
      jx_pair *items; /* sorted by key */
      size_t len, cap;
    } m;
  } u;
};

struct jx_pair {
  char *key; /* NUL-terminated, owned */
  jx_value val;
};

void *jx_xmalloc(size_t n);
void *jx_xcalloc(size_t n, size_t size);
void *jx_xrealloc(void *p, size_t n);
char *jx_xstrdup(const char *s);

jx_value jx_nil(void);
jx_value jx_bool(bool b);
jx_value jx_int(int64_t i);
jx_value jx_float(double f);
jx_value jx_str(const char *s);              /* copies s */
jx_value jx_strn(const char *s, size_t len); /* copies len bytes */
jx_value jx_array(void);
jx_value jx_map(void);

/* Frees what v owns and leaves v as nil. */
void jx_value_free(jx_value *v);

/* Deep copy. */
jx_value jx_value_copy(const jx_value *v);

bool jx_value_equal(const jx_value *a, const jx_value *b);

/* "nil", "boolean", "integer", "float", "string", "array", "map" */
const char *jx_type_name(jx_type t);

/* Arrays.  Push takes ownership of v; returns the stored element. */
jx_value *jx_array_push(jx_value *arr, jx_value v);

/* Maps.  Set takes ownership of v and replaces (freeing) an old value;
 * returns the stored value.  Get returns NULL when absent or when m is not a
 * map.  Del returns true if the key was there. */
jx_value *jx_map_set(jx_value *m, const char *key, jx_value v);
jx_value *jx_map_get(const jx_value *m, const char *key);
bool jx_map_del(jx_value *m, const char *key);

/* Typed lookups for the common case; NULL / fallback when absent or of
 * another type. */
const char *jx_map_str(const jx_value *m, const char *key);
bool jx_map_int(const jx_value *m, const char *key, int64_t *out);

/* Copies every pair of src into dst (replacing same keys). */
void jx_map_merge(jx_value *dst, const jx_value *src);

#endif
