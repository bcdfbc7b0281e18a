#include "jx_codec.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "jx_err.h"

/* ---- encoding ---------------------------------------------------------- */

static int append(void *out, const char *bytes, size_t len) {
  jx_buf_append(out, bytes, len);
  return 0;
}

static void encode(msgpack_packer *pk, const jx_value *v) {
  switch (v->type) {
  case JX_NIL:
    msgpack_pack_nil(pk);
    break;
  case JX_BOOL:
    if (v->u.b)
      msgpack_pack_true(pk);
    else
      msgpack_pack_false(pk);
    break;
  case JX_INT:
    msgpack_pack_int64(pk, v->u.i);
    break;
  case JX_FLOAT:
    msgpack_pack_double(pk, v->u.f);
    break;
  case JX_STR:
    msgpack_pack_str_with_body(pk, v->u.s.ptr, v->u.s.len);
    break;
  case JX_ARRAY:
    msgpack_pack_array(pk, v->u.a.len);
    for (size_t i = 0; i < v->u.a.len; i++)
      encode(pk, &v->u.a.items[i]);
    break;
  case JX_MAP:
    msgpack_pack_map(pk, v->u.m.len);
    for (size_t i = 0; i < v->u.m.len; i++) {
      const jx_pair *p = &v->u.m.items[i];
      msgpack_pack_str_with_body(pk, p->key, strlen(p->key));
      encode(pk, &p->val);
    }
    break;
  }
}

void jx_codec_encode(jx_buf *out, const jx_value *v) {
  msgpack_packer pk;
  msgpack_packer_init(&pk, out, append);
  encode(&pk, v);
}

/* ---- validation ---------------------------------------------------------
 * One pass over the untrusted bytes that proves msgpack-c will neither
 * allocate more than a small multiple of the frame (every count is bounded
 * by the bytes left) nor hit its nesting limit, and that finds every value
 * jixiao refuses while the byte offset is still known. */

typedef enum kind {
  K_SCALAR, /* the bytes after the type byte are the whole value */
  K_UINT64, /* a scalar that may exceed int64 */
  K_BYTES,  /* str or bin: a length, then that many bytes */
  K_ARRAY,
  K_MAP,
  K_EXT,
  K_NEVER, /* 0xc1 */
} kind;

typedef struct head {
  kind kind;
  const char *name;  /* with its article, for messages */
  unsigned extra;    /* bytes after the type byte: a value or a length */
  unsigned fixcount; /* fix forms: the length or count in the type byte */
} head;

/* The type bytes 0xc0..0xdf, indexed from 0xc0. */
static const head heads[32] = {
    {K_SCALAR, "a nil", 0, 0},       {K_NEVER, "the byte 0xc1", 0, 0},
    {K_SCALAR, "a false", 0, 0},     {K_SCALAR, "a true", 0, 0},
    {K_BYTES, "a bin", 1, 0},        {K_BYTES, "a bin", 2, 0},
    {K_BYTES, "a bin", 4, 0},        {K_EXT, "an ext", 1, 0},
    {K_EXT, "an ext", 2, 0},         {K_EXT, "an ext", 4, 0},
    {K_SCALAR, "a float32", 4, 0},   {K_SCALAR, "a float64", 8, 0},
    {K_SCALAR, "a uint8", 1, 0},     {K_SCALAR, "a uint16", 2, 0},
    {K_SCALAR, "a uint32", 4, 0},    {K_UINT64, "a uint64", 8, 0},
    {K_SCALAR, "an int8", 1, 0},     {K_SCALAR, "an int16", 2, 0},
    {K_SCALAR, "an int32", 4, 0},    {K_SCALAR, "an int64", 8, 0},
    {K_EXT, "a fixext", 1, 0},       {K_EXT, "a fixext", 2, 0},
    {K_EXT, "a fixext", 4, 0},       {K_EXT, "a fixext", 8, 0},
    {K_EXT, "a fixext", 16, 0},      {K_BYTES, "a str", 1, 0},
    {K_BYTES, "a str", 2, 0},        {K_BYTES, "a str", 4, 0},
    {K_ARRAY, "an array", 2, 0},     {K_ARRAY, "an array", 4, 0},
    {K_MAP, "a map", 2, 0},          {K_MAP, "a map", 4, 0},
};

static head classify(unsigned char b) {
  if (b <= 0x7f || b >= 0xe0)
    return (head){K_SCALAR, "a fixint", 0, 0};
  if (b <= 0x8f)
    return (head){K_MAP, "a map", 0, b & 0x0fu};
  if (b <= 0x9f)
    return (head){K_ARRAY, "an array", 0, b & 0x0fu};
  if (b <= 0xbf)
    return (head){K_BYTES, "a str", 0, b & 0x1fu};
  return heads[b - 0xc0];
}

static uint64_t load_be(const unsigned char *p, unsigned n) {
  uint64_t x = 0;
  for (unsigned i = 0; i < n; i++)
    x = x << 8 | p[i];
  return x;
}

typedef struct scan {
  const unsigned char *p;
  size_t len; /* bytes in the frame */
  size_t off; /* next byte to read */
} scan;

static int check_value(scan *s, unsigned depth);

/* A key must be a str or bin (msgpack-c would take anything) and free of
 * NUL bytes, which jx_value's C-string keys cannot hold. */
static int check_key(scan *s, unsigned depth) {
  size_t at = s->off;
  if (at < s->len) {
    head h = classify(s->p[at]);
    if (h.kind != K_BYTES)
      return jx_err_set(JX_EINVAL,
                        "msgpack map key at byte %zu is not a string but %s",
                        at, h.name);
  }
  int rc = check_value(s, depth);
  if (rc)
    return rc;
  size_t body = at + 1 + classify(s->p[at]).extra;
  if (memchr(s->p + body, 0, s->off - body))
    return jx_err_set(JX_EINVAL,
                      "msgpack map key at byte %zu contains a NUL byte", at);
  return 0;
}

/* Checks the value at s->off, whose enclosing containers number depth, and
 * moves s->off past it. */
static int check_value(scan *s, unsigned depth) {
  size_t at = s->off;
  if (at == s->len)
    return jx_err_set(JX_EINVAL,
                      "truncated msgpack: a value expected at byte %zu, "
                      "where the frame ends",
                      at);
  head h = classify(s->p[at]);
  if (h.kind == K_NEVER)
    return jx_err_set(JX_EINVAL,
                      "invalid msgpack: the type byte 0xc1 at byte %zu is "
                      "never used",
                      at);
  if (h.kind == K_EXT)
    return jx_err_set(JX_EINVAL,
                      "msgpack ext value at byte %zu (type byte 0x%02x) is "
                      "not supported",
                      at, s->p[at]);
  if (h.extra > s->len - at - 1)
    return jx_err_set(JX_EINVAL,
                      "truncated msgpack: %s at byte %zu needs %zu bytes, "
                      "%zu given",
                      h.name, at, at + 1 + h.extra, s->len);
  const unsigned char *x = s->p + at + 1;
  s->off = at + 1 + h.extra;
  uint64_t left = s->len - s->off;
  uint64_t n = h.extra ? load_be(x, h.extra) : h.fixcount;
  switch (h.kind) {
  case K_UINT64:
    if (n > INT64_MAX)
      return jx_err_set(JX_EINVAL,
                        "msgpack integer %" PRIu64 " at byte %zu exceeds "
                        "the int64 range",
                        n, at);
    return 0;
  case K_BYTES:
    if (n > left)
      return jx_err_set(JX_EINVAL,
                        "truncated msgpack: %s of %" PRIu64 " bytes at byte "
                        "%zu needs %" PRIu64 " bytes, %zu given",
                        h.name, n, at, s->off + n, s->len);
    s->off += n;
    return 0;
  case K_ARRAY:
  case K_MAP: {
    if (depth >= JX_CODEC_MAX_DEPTH)
      return jx_err_set(JX_EINVAL, "msgpack nesting deeper than %d at byte %zu",
                        JX_CODEC_MAX_DEPTH, at);
    bool map = h.kind == K_MAP;
    /* Every element takes at least one byte: msgpack-c allocates the count
     * up front, so this bound is what keeps a 5-byte header from reserving
     * gigabytes. */
    uint64_t least = map ? 2 * n : n;
    if (least > left)
      return jx_err_set(JX_EINVAL,
                        "truncated msgpack: %s of %" PRIu64 " %s at byte %zu "
                        "needs at least %" PRIu64 " bytes, %zu given",
                        h.name, n, map ? "pairs" : "elements", at,
                        s->off + least, s->len);
    for (uint64_t i = 0; i < n; i++) {
      int rc = map ? check_key(s, depth + 1) : 0;
      if (!rc)
        rc = check_value(s, depth + 1);
      if (rc)
        return rc;
    }
    return 0;
  }
  default:
    return 0;
  }
}

/* ---- conversion --------------------------------------------------------
 * Runs on input the validator accepted.  msgpack_unpack_next leaves str and
 * bin pointing into the frame rather than copying them, which is what lets a
 * duplicate key be reported by its offset. */

static int convert(jx_value *out, msgpack_object *o, const char *frame);

static msgpack_object_str key_text(const msgpack_object *k) {
  if (k->type == MSGPACK_OBJECT_STR)
    return k->via.str;
  return (msgpack_object_str){k->via.bin.size, k->via.bin.ptr};
}

/* Bytewise with the shorter first on a tie: for NUL-free keys, strcmp's
 * order, which jx_value keeps its maps in. */
static int compare_text(const msgpack_object *a, const msgpack_object *b) {
  msgpack_object_str x = key_text(a), y = key_text(b);
  int c = memcmp(x.ptr, y.ptr, x.size < y.size ? x.size : y.size);
  if (c)
    return c;
  return (x.size > y.size) - (x.size < y.size);
}

/* Equal keys sort in frame order, so a duplicate is reported where it
 * repeats, not where it first appeared. */
static int compare_pairs(const void *a, const void *b) {
  const msgpack_object_kv *x = a, *y = b;
  int c = compare_text(&x->key, &y->key);
  if (c)
    return c;
  const char *px = key_text(&x->key).ptr, *py = key_text(&y->key).ptr;
  return (px > py) - (px < py);
}

/* Sorting first lays the pairs down in jx_value's order in O(n log n);
 * inserting unsorted keys one by one would be quadratic in a hostile map. */
static int convert_map(jx_value *out, msgpack_object_map *m,
                       const char *frame) {
  if (m->size > 1)
    qsort(m->ptr, m->size, sizeof *m->ptr, compare_pairs);
  for (uint32_t i = 1; i < m->size; i++)
    if (compare_text(&m->ptr[i - 1].key, &m->ptr[i].key) == 0)
      return jx_err_set(JX_EINVAL,
                        "msgpack map key whose text starts at byte %td "
                        "repeats an earlier key of the same map",
                        key_text(&m->ptr[i].key).ptr - frame);
  jx_value v = jx_map();
  v.u.m.items = jx_xmalloc(m->size * sizeof *v.u.m.items);
  v.u.m.cap = m->size;
  for (uint32_t i = 0; i < m->size; i++) {
    jx_pair *p = &v.u.m.items[i];
    int rc = convert(&p->val, &m->ptr[i].val, frame);
    if (rc) {
      jx_value_free(&v);
      return rc;
    }
    msgpack_object_str k = key_text(&m->ptr[i].key);
    p->key = jx_xmalloc(k.size + 1);
    memcpy(p->key, k.ptr, k.size);
    p->key[k.size] = '\0';
    v.u.m.len++;
  }
  *out = v;
  return 0;
}

static int convert(jx_value *out, msgpack_object *o, const char *frame) {
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    *out = jx_nil();
    return 0;
  case MSGPACK_OBJECT_BOOLEAN:
    *out = jx_bool(o->via.boolean);
    return 0;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    /* The validator refused values above INT64_MAX. */
    *out = jx_int((int64_t)o->via.u64);
    return 0;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    *out = jx_int(o->via.i64);
    return 0;
  case MSGPACK_OBJECT_FLOAT32: /* msgpack-c has widened it already */
  case MSGPACK_OBJECT_FLOAT64:
    *out = jx_float(o->via.f64);
    return 0;
  case MSGPACK_OBJECT_STR:
    *out = jx_strn(o->via.str.ptr, o->via.str.size);
    return 0;
  case MSGPACK_OBJECT_BIN:
    *out = jx_strn(o->via.bin.ptr, o->via.bin.size);
    return 0;
  case MSGPACK_OBJECT_ARRAY: {
    jx_value v = jx_array();
    for (uint32_t i = 0; i < o->via.array.size; i++) {
      jx_value item;
      int rc = convert(&item, &o->via.array.ptr[i], frame);
      if (rc) {
        jx_value_free(&v);
        return rc;
      }
      jx_array_push(&v, item);
    }
    *out = v;
    return 0;
  }
  case MSGPACK_OBJECT_MAP:
    return convert_map(out, &o->via.map, frame);
  case MSGPACK_OBJECT_EXT:
    break;
  }
  return jx_err_set(JX_EINVAL, "msgpack object of type %d is not supported",
                    (int)o->type);
}

int jx_codec_decode(jx_value *out, const char *data, size_t len,
                    size_t max_len) {
  *out = jx_nil();
  if (len > max_len)
    return jx_err_set(JX_EINVAL,
                      "msgpack frame of %zu bytes exceeds the limit of %zu",
                      len, max_len);
  scan s = {(const unsigned char *)data, len, 0};
  int rc = check_value(&s, 0);
  if (rc)
    return rc;
  if (s.off != len)
    return jx_err_set(JX_EINVAL,
                      "trailing bytes after the msgpack object at byte %zu: "
                      "it ends there, the frame has %zu bytes",
                      s.off, len);

  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  msgpack_unpack_return ur = msgpack_unpack_next(&up, data, len, &off);
  if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
    rc = jx_err_set(JX_EINVAL,
                    "msgpack-c refused a validated frame of %zu bytes "
                    "(code %d at byte %zu)",
                    len, (int)ur, off);
    goto cleanup;
  }
  rc = convert(out, &up.data, data);

cleanup:
  msgpack_unpacked_destroy(&up);
  return rc;
}
