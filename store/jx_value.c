#include "jx_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *jx_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fputs("jx: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *jx_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) {
    fputs("jx: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *jx_xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fputs("jx: out of memory\n", stderr);
    abort();
  }
  return p;
}

char *jx_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(jx_xmalloc(n), s, n);
}

jx_value jx_nil(void) { return (jx_value){.type = JX_NIL}; }
jx_value jx_bool(bool b) { return (jx_value){.type = JX_BOOL, .u.b = b}; }
jx_value jx_int(int64_t i) { return (jx_value){.type = JX_INT, .u.i = i}; }
jx_value jx_float(double f) { return (jx_value){.type = JX_FLOAT, .u.f = f}; }

jx_value jx_strn(const char *s, size_t len) {
  jx_value v = {.type = JX_STR};
  v.u.s.ptr = jx_xmalloc(len + 1);
  memcpy(v.u.s.ptr, s, len);
  v.u.s.ptr[len] = '\0';
  v.u.s.len = len;
  return v;
}

jx_value jx_str(const char *s) { return jx_strn(s, strlen(s)); }
jx_value jx_array(void) { return (jx_value){.type = JX_ARRAY}; }
jx_value jx_map(void) { return (jx_value){.type = JX_MAP}; }

void jx_value_free(jx_value *v) {
  switch (v->type) {
  case JX_STR:
    free(v->u.s.ptr);
    break;
  case JX_ARRAY:
    for (size_t i = 0; i < v->u.a.len; i++)
      jx_value_free(&v->u.a.items[i]);
    free(v->u.a.items);
    break;
  case JX_MAP:
    for (size_t i = 0; i < v->u.m.len; i++) {
      free(v->u.m.items[i].key);
      jx_value_free(&v->u.m.items[i].val);
    }
    free(v->u.m.items);
    break;
  default:
    break;
  }
  *v = jx_nil();
}

jx_value jx_value_copy(const jx_value *v) {
  jx_value c = *v;
  switch (v->type) {
  case JX_STR:
    return jx_strn(v->u.s.ptr, v->u.s.len);
  case JX_ARRAY:
    c.u.a.items = jx_xmalloc(v->u.a.len * sizeof *c.u.a.items);
    c.u.a.cap = v->u.a.len;
    for (size_t i = 0; i < v->u.a.len; i++)
      c.u.a.items[i] = jx_value_copy(&v->u.a.items[i]);
    return c;
  case JX_MAP:
    c.u.m.items = jx_xmalloc(v->u.m.len * sizeof *c.u.m.items);
    c.u.m.cap = v->u.m.len;
    for (size_t i = 0; i < v->u.m.len; i++) {
      c.u.m.items[i].key = jx_xstrdup(v->u.m.items[i].key);
      c.u.m.items[i].val = jx_value_copy(&v->u.m.items[i].val);
    }
    return c;
  default:
    return c;
  }
}

bool jx_value_equal(const jx_value *a, const jx_value *b) {
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case JX_NIL:
    return true;
  case JX_BOOL:
    return a->u.b == b->u.b;
  case JX_INT:
    return a->u.i == b->u.i;
  case JX_FLOAT:
    return a->u.f == b->u.f;
  case JX_STR:
    return a->u.s.len == b->u.s.len &&
           memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
  case JX_ARRAY:
    if (a->u.a.len != b->u.a.len)
      return false;
    for (size_t i = 0; i < a->u.a.len; i++)
      if (!jx_value_equal(&a->u.a.items[i], &b->u.a.items[i]))
        return false;
    return true;
  case JX_MAP:
    if (a->u.m.len != b->u.m.len)
      return false;
    for (size_t i = 0; i < a->u.m.len; i++)
      if (strcmp(a->u.m.items[i].key, b->u.m.items[i].key) != 0 ||
          !jx_value_equal(&a->u.m.items[i].val, &b->u.m.items[i].val))
        return false;
    return true;
  }
  return false;
}

const char *jx_type_name(jx_type t) {
  static const char *const names[] = {"nil",    "boolean", "integer", "float",
                                      "string", "array",   "map"};
  return t <= JX_MAP ? names[t] : "?";
}

jx_value *jx_array_push(jx_value *arr, jx_value v) {
  if (arr->u.a.len == arr->u.a.cap) {
    arr->u.a.cap = arr->u.a.cap ? arr->u.a.cap * 2 : 4;
    arr->u.a.items =
        jx_xrealloc(arr->u.a.items, arr->u.a.cap * sizeof *arr->u.a.items);
  }
  arr->u.a.items[arr->u.a.len] = v;
  return &arr->u.a.items[arr->u.a.len++];
}

/* Index of key, or of where it would be inserted; *found tells which. */
static size_t map_find(const jx_value *m, const char *key, bool *found) {
  size_t lo = 0, hi = m->u.m.len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(m->u.m.items[mid].key, key);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

jx_value *jx_map_set(jx_value *m, const char *key, jx_value v) {
  bool found;
  size_t i = map_find(m, key, &found);
  if (found) {
    jx_value_free(&m->u.m.items[i].val);
    m->u.m.items[i].val = v;
    return &m->u.m.items[i].val;
  }
  if (m->u.m.len == m->u.m.cap) {
    m->u.m.cap = m->u.m.cap ? m->u.m.cap * 2 : 4;
    m->u.m.items = jx_xrealloc(m->u.m.items, m->u.m.cap * sizeof *m->u.m.items);
  }
  memmove(&m->u.m.items[i + 1], &m->u.m.items[i],
          (m->u.m.len - i) * sizeof *m->u.m.items);
  m->u.m.items[i].key = jx_xstrdup(key);
  m->u.m.items[i].val = v;
  m->u.m.len++;
  return &m->u.m.items[i].val;
}

jx_value *jx_map_get(const jx_value *m, const char *key) {
  if (!m || m->type != JX_MAP)
    return NULL;
  bool found;
  size_t i = map_find(m, key, &found);
  return found ? &m->u.m.items[i].val : NULL;
}

bool jx_map_del(jx_value *m, const char *key) {
  bool found;
  size_t i = map_find(m, key, &found);
  if (!found)
    return false;
  free(m->u.m.items[i].key);
  jx_value_free(&m->u.m.items[i].val);
  memmove(&m->u.m.items[i], &m->u.m.items[i + 1],
          (m->u.m.len - i - 1) * sizeof *m->u.m.items);
  m->u.m.len--;
  return true;
}

const char *jx_map_str(const jx_value *m, const char *key) {
  const jx_value *v = jx_map_get(m, key);
  return v && v->type == JX_STR ? v->u.s.ptr : NULL;
}

bool jx_map_int(const jx_value *m, const char *key, int64_t *out) {
  const jx_value *v = jx_map_get(m, key);
  if (!v || v->type != JX_INT)
    return false;
  *out = v->u.i;
  return true;
}

void jx_map_merge(jx_value *dst, const jx_value *src) {
  for (size_t i = 0; i < src->u.m.len; i++)
    jx_map_set(dst, src->u.m.items[i].key,
               jx_value_copy(&src->u.m.items[i].val));
}
