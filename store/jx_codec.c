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

/* Containers count as a level; `depth` is the number of enclosing ones. */
static int encode(msgpack_packer *pk, const jx_value *v, int depth) {
  if ((v->type == JX_ARRAY || v->type == JX_MAP) && depth == JX_CODEC_MAX_DEPTH)
    return jx_err_set(JX_EINVAL, "value nests deeper than %d levels",
                      JX_CODEC_MAX_DEPTH);
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
      if (encode(pk, &v->u.a.items[i], depth + 1) < 0)
        return JX_EINVAL;
    break;
  case JX_MAP:
    msgpack_pack_map(pk, v->u.m.len);
    for (size_t i = 0; i < v->u.m.len; i++) {
      const jx_pair *p = &v->u.m.items[i];
      msgpack_pack_str_with_body(pk, p->key, strlen(p->key));
      if (encode(pk, &p->val, depth + 1) < 0)
        return JX_EINVAL;
    }
    break;
  }
  return 0;
}

int jx_codec_encode(jx_buf *out, const jx_value *v, size_t max_len) {
  msgpack_packer pk;
  size_t start = out->len;
  msgpack_packer_init(&pk, out, append);
  int rc = encode(&pk, v, 0);
  if (rc == 0 && out->len - start > max_len)
    rc = jx_err_set(JX_EINVAL,
                    "value encodes to %zu bytes, over the frame limit of %zu",
                    out->len - start, max_len);
  if (rc < 0)
    out->len = start;
  return rc;
}

/* Bytewise, the shorter first on a tie: for NUL-free keys strcmp's order,
 * the order jx_value keeps its maps in.  Pointers must not be NULL. */
static int compare_bytes(const void *a, size_t alen, const void *b,
                         size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c ? c : (alen > blen) - (alen < blen);
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
    {K_SCALAR, "a nil", 0, 0},     {K_NEVER, "the byte 0xc1", 0, 0},
    {K_SCALAR, "a false", 0, 0},   {K_SCALAR, "a true", 0, 0},
    {K_BYTES, "a bin", 1, 0},      {K_BYTES, "a bin", 2, 0},
    {K_BYTES, "a bin", 4, 0},      {K_EXT, "an ext", 1, 0},
    {K_EXT, "an ext", 2, 0},       {K_EXT, "an ext", 4, 0},
    {K_SCALAR, "a float32", 4, 0}, {K_SCALAR, "a float64", 8, 0},
    {K_SCALAR, "a uint8", 1, 0},   {K_SCALAR, "a uint16", 2, 0},
    {K_SCALAR, "a uint32", 4, 0},  {K_UINT64, "a uint64", 8, 0},
    {K_SCALAR, "an int8", 1, 0},   {K_SCALAR, "an int16", 2, 0},
    {K_SCALAR, "an int32", 4, 0},  {K_SCALAR, "an int64", 8, 0},
    {K_EXT, "a fixext", 1, 0},     {K_EXT, "a fixext", 2, 0},
    {K_EXT, "a fixext", 4, 0},     {K_EXT, "a fixext", 8, 0},
    {K_EXT, "a fixext", 16, 0},    {K_BYTES, "a str", 1, 0},
    {K_BYTES, "a str", 2, 0},      {K_BYTES, "a str", 4, 0},
    {K_ARRAY, "an array", 2, 0},   {K_ARRAY, "an array", 4, 0},
    {K_MAP, "a map", 2, 0},        {K_MAP, "a map", 4, 0},
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
  size_t need; /* after a truncation: the least length the frame can have */
} scan;

static int check_value(scan *s, unsigned depth);

/* Where a map key's text lies in the frame. */
typedef struct key_span {
  const unsigned char *text;
  size_t len;
  size_t at; /* offset of the key's type byte */
} key_span;

/* A key must be a str or bin (msgpack-c would take anything) and free of
 * NUL bytes, which jx_value's C-string keys cannot hold. */
static int check_key(scan *s, unsigned depth, key_span *key) {
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
  *key = (key_span){s->p + body, s->off - body, at};
  if (memchr(key->text, 0, key->len))
    return jx_err_set(JX_EINVAL,
                      "msgpack map key at byte %zu contains a NUL byte", at);
  return 0;
}

/* Equal keys sort in frame order, so a duplicate follows its original. */
static int compare_spans(const void *a, const void *b) {
  const key_span *x = a, *y = b;
  int c = compare_bytes(x->text, x->len, y->text, y->len);
  return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* A repeated key would make one value silently replace the other. */
static int check_map(scan *s, uint64_t n, unsigned depth) {
  key_span one, *keys = n > 1 ? jx_xmalloc(n * sizeof *keys) : &one;
  int rc = 0;
  for (uint64_t i = 0; i < n && !rc; i++) {
    rc = check_key(s, depth, &keys[i]);
    if (!rc)
      rc = check_value(s, depth);
  }
  if (!rc && n > 1) {
    qsort(keys, n, sizeof *keys, compare_spans);
    for (uint64_t i = 1; i < n && !rc; i++)
      if (!compare_bytes(keys[i - 1].text, keys[i - 1].len, keys[i].text,
                         keys[i].len))
        rc = jx_err_set(JX_EINVAL,
                        "msgpack map key at byte %zu repeats an earlier key "
                        "of the same map",
                        keys[i].at);
  }
  if (keys != &one)
    free(keys);
  return rc;
}

/* Checks the value at s->off, whose enclosing containers number depth, and
 * moves s->off past it. */
static int check_value(scan *s, unsigned depth) {
  size_t at = s->off;
  if (at == s->len) {
    s->need = at + 1;
    return jx_err_set(JX_EINVAL,
                      "truncated msgpack: a value expected at byte %zu, "
                      "where the frame ends",
                      at);
  }
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
  if (h.extra > s->len - at - 1) {
    s->need = at + 1 + h.extra;
    return jx_err_set(JX_EINVAL,
                      "truncated msgpack: %s at byte %zu needs %zu bytes, "
                      "%zu given",
                      h.name, at, at + 1 + h.extra, s->len);
  }
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
    if (n > left) {
      s->need = s->off + n;
      return jx_err_set(JX_EINVAL,
                        "truncated msgpack: %s of %" PRIu64 " bytes at byte "
                        "%zu needs %" PRIu64 " bytes, %zu given",
                        h.name, n, at, s->off + n, s->len);
    }
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
    if (least > left) {
      s->need = s->off + least;
      return jx_err_set(JX_EINVAL,
                        "truncated msgpack: %s of %" PRIu64 " %s at byte %zu "
                        "needs at least %" PRIu64 " bytes, %zu given",
                        h.name, n, map ? "pairs" : "elements", at,
                        s->off + least, s->len);
    }
    if (map)
      return check_map(s, n, depth + 1);
    for (uint64_t i = 0; i < n; i++) {
      int rc = check_value(s, depth + 1);
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
 * Runs only on frames the validator accepted, so nothing here can fail. */

static void convert(jx_value *out, msgpack_object *o);

/* The bytes of a str or bin; msgpack-c gives an empty one a NULL pointer,
 * which memcpy and memcmp must not see. */
static msgpack_object_str text_of(const msgpack_object *o) {
  msgpack_object_str t =
      o->type == MSGPACK_OBJECT_STR
          ? o->via.str
          : (msgpack_object_str){o->via.bin.size, o->via.bin.ptr};
  if (!t.size)
    t.ptr = "";
  return t;
}

/* The validator made the keys distinct, so this order is total. */
static int compare_pairs(const void *a, const void *b) {
  msgpack_object_str x = text_of(&((const msgpack_object_kv *)a)->key);
  msgpack_object_str y = text_of(&((const msgpack_object_kv *)b)->key);
  return compare_bytes(x.ptr, x.size, y.ptr, y.size);
}

/* Sorting first lays the pairs down in jx_value's order in O(n log n);
 * inserting a hostile map's keys one by one would be quadratic. */
static void convert_map(jx_value *out, msgpack_object_map *m) {
  if (m->size > 1)
    qsort(m->ptr, m->size, sizeof *m->ptr, compare_pairs);
  *out = jx_map();
  out->u.m.items = jx_xmalloc(m->size * sizeof *out->u.m.items);
  out->u.m.cap = out->u.m.len = m->size;
  for (uint32_t i = 0; i < m->size; i++) {
    jx_pair *p = &out->u.m.items[i];
    msgpack_object_str k = text_of(&m->ptr[i].key);
    p->key = jx_xmalloc(k.size + 1);
    memcpy(p->key, k.ptr, k.size);
    p->key[k.size] = '\0';
    convert(&p->val, &m->ptr[i].val);
  }
}

static void convert(jx_value *out, msgpack_object *o) {
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
  case MSGPACK_OBJECT_EXT: /* refused by the validator */
    *out = jx_nil();
    return;
  case MSGPACK_OBJECT_BOOLEAN:
    *out = jx_bool(o->via.boolean);
    return;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    /* The validator refused values above INT64_MAX. */
    *out = jx_int((int64_t)o->via.u64);
    return;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    *out = jx_int(o->via.i64);
    return;
  case MSGPACK_OBJECT_FLOAT32: /* msgpack-c has widened it already */
  case MSGPACK_OBJECT_FLOAT64:
    *out = jx_float(o->via.f64);
    return;
  case MSGPACK_OBJECT_STR:
  case MSGPACK_OBJECT_BIN: {
    msgpack_object_str t = text_of(o);
    *out = jx_strn(t.ptr, t.size);
    return;
  }
  case MSGPACK_OBJECT_ARRAY:
    *out = jx_array();
    for (uint32_t i = 0; i < o->via.array.size; i++)
      convert(jx_array_push(out, jx_nil()), &o->via.array.ptr[i]);
    return;
  case MSGPACK_OBJECT_MAP:
    convert_map(out, &o->via.map);
    return;
  }
}

int jx_codec_decode(jx_value *out, const char *data, size_t len,
                    size_t max_len) {
  *out = jx_nil();
  if (len > max_len)
    return jx_err_set(JX_EINVAL,
                      "msgpack frame of %zu bytes exceeds the limit of %zu",
                      len, max_len);
  scan s = {(const unsigned char *)data, len, 0, 0};
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
  convert(out, &up.data);

cleanup:
  msgpack_unpacked_destroy(&up);
  return rc;
}

int jx_codec_measure(const char *data, size_t len, size_t max_len,
                     size_t *frame_len, size_t *need) {
  scan s = {(const unsigned char *)data, len, 0, 0};
  int rc = check_value(&s, 0);
  if (rc == 0 && s.off > max_len)
    return jx_err_set(JX_EINVAL,
                      "msgpack frame of %zu bytes exceeds the limit of %zu",
                      s.off, max_len);
  if (rc == 0) {
    *frame_len = s.off;
    return 0;
  }
  if (!s.need) /* not a truncation: the bytes are wrong */
    return rc;
  if (s.need > max_len)
    return jx_err_set(JX_EINVAL,
                      "msgpack frame of at least %zu bytes exceeds the "
                      "limit of %zu",
                      s.need, max_len);
  jx_err_clear();
  *need = s.need;
  return 1;
}
