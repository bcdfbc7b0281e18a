/* The msgpack codec: round trips, the exact bytes it writes, and decoding of
 * hostile input (truncation, count bombs, depth, ext, stray bytes, fuzz). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jx_codec.h"
#include "jx_err.h"

#define CAP ((size_t)1 << 20)

/* "dd 04 00 00 00" -> bytes; returns the length. */
static size_t unhex(const char *hex, char *out) {
  size_t n = 0;
  unsigned b;
  int used;
  while (sscanf(hex, " %2x%n", &b, &used) == 1) {
    out[n++] = (char)b;
    hex += used;
  }
  return n;
}

static jx_buf encode(const jx_value *v) {
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_codec_encode(&b, v, SIZE_MAX), 0);
  return b;
}

static void expect_bytes(jx_value v, const char *hex) {
  char want[128];
  size_t n = unhex(hex, want);
  jx_buf b = encode(&v);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, want, n);
  jx_buf_free(&b);
  jx_value_free(&v);
}

/* Encodes v, decodes the bytes and checks the result equals v. */
static void expect_round_trip(jx_value v) {
  jx_buf b = encode(&v);
  jx_value back;
  assert_int_equal(jx_codec_decode(&back, b.data, b.len, SIZE_MAX), 0);
  assert_true(jx_value_equal(&v, &back));
  jx_value_free(&back);
  jx_buf_free(&b);
  jx_value_free(&v);
}

static void expect_reject_raw(const char *bytes, size_t len, size_t max_len,
                              const char *msg) {
  jx_value out = jx_int(7);
  assert_int_equal(jx_codec_decode(&out, bytes, len, max_len), JX_EINVAL);
  assert_int_equal(out.type, JX_NIL);
  assert_int_equal(jx_err_last()->code, JX_EINVAL);
  assert_string_equal(jx_err_last()->msg, msg);
}

static void expect_reject(const char *hex, const char *msg) {
  char bytes[128];
  size_t n = unhex(hex, bytes);
  expect_reject_raw(bytes, n, CAP, msg);
}

static jx_value decode_hex(const char *hex) {
  char bytes[128];
  size_t n = unhex(hex, bytes);
  jx_value v;
  assert_int_equal(jx_codec_decode(&v, bytes, n, CAP), 0);
  return v;
}

static jx_value repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  memset(s, c, n);
  jx_value v = jx_strn(s, n);
  free(s);
  return v;
}

/* A value with every type and every length form below 64 KiB. */
static jx_value sample(void) {
  jx_value v = jx_map();
  jx_value *a = jx_map_set(&v, "a", jx_array());
  static const int64_t ints[] = {0,      1,          -1,         127,  128,
                                 -32,    -33,        300,        -300, 70000,
                                 -70000, 5000000000, -5000000000};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
    jx_array_push(a, jx_int(ints[i]));
  jx_array_push(a, jx_float(1.5));
  jx_array_push(a, jx_bool(true));
  jx_array_push(a, jx_bool(false));
  jx_array_push(a, jx_nil());
  jx_array_push(a, jx_str(""));
  jx_array_push(a, repeat('x', 40));
  jx_value *b = jx_map_set(&v, "b", jx_map());
  jx_value *d = jx_map_set(jx_map_set(b, "c", jx_map()), "d", jx_array());
  jx_array_push(d, jx_array());
  jx_array_push(d, jx_map());
  jx_map_set(b, "s", repeat('s', 300));
  jx_map_set(&v, "n", jx_int(INT64_MIN));
  jx_map_set(&v, "u", jx_int(INT64_MAX));
  jx_value *big = jx_map_set(&v, "big", jx_array());
  for (int i = 0; i < 20; i++)
    jx_array_push(big, jx_int(i * 1000));
  return v;
}

static void test_codec__scalars_round_trip(void **state) {
  (void)state;
  expect_round_trip(jx_nil());
  expect_round_trip(jx_bool(true));
  expect_round_trip(jx_bool(false));
  static const int64_t ints[] = {
      0,         1,           127,           128,        255,       256,
      65535,     65536,       4294967295,    4294967296, INT64_MAX, -1,
      -32,       -33,         -128,          -129,       -32768,    -32769,
      INT32_MIN, -2147483649, INT64_MIN + 1, INT64_MIN};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
    expect_round_trip(jx_int(ints[i]));
  static const double floats[] = {0.0,   -0.0,    1.5,    -2.25,    0.1,
                                  1e308, -1e-308, 5e-324, INFINITY, -INFINITY};
  for (size_t i = 0; i < sizeof floats / sizeof *floats; i++)
    expect_round_trip(jx_float(floats[i]));

  jx_value nan = jx_float(NAN), back;
  jx_buf b = encode(&nan);
  assert_int_equal(jx_codec_decode(&back, b.data, b.len, CAP), 0);
  assert_int_equal(back.type, JX_FLOAT);
  assert_true(isnan(back.u.f));
  jx_buf_free(&b);
}

static void test_codec__strings_round_trip(void **state) {
  (void)state;
  static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 100000};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
    expect_round_trip(repeat('q', lens[i]));
  expect_round_trip(jx_strn("a\0b\xff\xfe", 5));
}

static void test_codec__containers_round_trip(void **state) {
  (void)state;
  static const size_t lens[] = {0, 1, 15, 16, 65535, 65536};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    jx_value a = jx_array(), m = jx_map();
    for (size_t j = 0; j < lens[i]; j++) {
      char key[32];
      snprintf(key, sizeof key, "k%zu", j);
      jx_array_push(&a, jx_int((int64_t)j));
      jx_map_set(&m, key, jx_int((int64_t)j));
    }
    expect_round_trip(a);
    expect_round_trip(m);
  }
  expect_round_trip(sample());
}

static void test_codec__smallest_forms(void **state) {
  (void)state;
  expect_bytes(jx_nil(), "c0");
  expect_bytes(jx_bool(false), "c2");
  expect_bytes(jx_bool(true), "c3");
  expect_bytes(jx_int(0), "00");
  expect_bytes(jx_int(127), "7f");
  expect_bytes(jx_int(128), "cc 80");
  expect_bytes(jx_int(256), "cd 01 00");
  expect_bytes(jx_int(65536), "ce 00 01 00 00");
  expect_bytes(jx_int(4294967296), "cf 00 00 00 01 00 00 00 00");
  expect_bytes(jx_int(-1), "ff");
  expect_bytes(jx_int(-32), "e0");
  expect_bytes(jx_int(-33), "d0 df");
  expect_bytes(jx_int(-129), "d1 ff 7f");
  expect_bytes(jx_int(-32769), "d2 ff ff 7f ff");
  expect_bytes(jx_int(INT64_MIN), "d3 80 00 00 00 00 00 00 00");
  expect_bytes(jx_float(1.5), "cb 3f f8 00 00 00 00 00 00");
  expect_bytes(jx_float(1.0), "cb 3f f0 00 00 00 00 00 00");
  expect_bytes(jx_str(""), "a0");
  expect_bytes(jx_str("a"), "a1 61");

  static const struct {
    size_t len;
    const char *head;
  } forms[] = {{31, "bf"},          {32, "d9 20"},
               {255, "d9 ff"},      {256, "da 01 00"},
               {65535, "da ff ff"}, {65536, "db 00 01 00 00"}};
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    char want[8];
    size_t n = unhex(forms[i].head, want);
    jx_value s = repeat('z', forms[i].len);
    jx_buf b = encode(&s);
    assert_int_equal(b.len, n + forms[i].len);
    assert_memory_equal(b.data, want, n);
    jx_buf_free(&b);
    jx_value_free(&s);
  }

  jx_value a = jx_array();
  for (int i = 0; i < 15; i++)
    jx_array_push(&a, jx_nil());
  jx_buf b = encode(&a);
  assert_int_equal((unsigned char)b.data[0], 0x9f);
  jx_buf_free(&b);
  jx_array_push(&a, jx_nil());
  expect_bytes(jx_value_copy(&a),
               "dc 00 10 c0 c0 c0 c0 c0 c0 c0 c0 c0 c0 c0 c0 "
               "c0 c0 c0 c0");
  jx_value_free(&a);
}

static void test_codec__deterministic(void **state) {
  (void)state;
  jx_value x = jx_map(), y = jx_map();
  jx_map_set(&x, "b", jx_array());
  jx_array_push(jx_map_get(&x, "b"), jx_bool(true));
  jx_array_push(jx_map_get(&x, "b"), jx_nil());
  jx_map_set(&x, "a", jx_int(1));
  jx_map_set(&y, "a", jx_int(1));
  jx_map_set(&y, "b", jx_value_copy(jx_map_get(&x, "b")));
  jx_buf bx = encode(&x), by = encode(&y);
  assert_int_equal(bx.len, by.len);
  assert_memory_equal(bx.data, by.data, bx.len);
  jx_buf_free(&bx);
  jx_buf_free(&by);
  jx_value_free(&y);
  expect_bytes(x, "82 a1 61 01 a1 62 92 c3 c0");

  /* Another producer's key order decodes to the one sorted encoding. */
  jx_value v = decode_hex("83 a1 63 03 a1 61 01 a1 62 02");
  expect_bytes(v, "83 a1 61 01 a1 62 02 a1 63 03");

  jx_value s1 = sample(), s2 = sample();
  jx_buf b1 = encode(&s1), b2 = encode(&s2);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  jx_value back;
  assert_int_equal(jx_codec_decode(&back, b1.data, b1.len, CAP), 0);
  jx_buf b3 = encode(&back);
  assert_int_equal(b3.len, b1.len);
  assert_memory_equal(b3.data, b1.data, b1.len);
  jx_buf_free(&b1);
  jx_buf_free(&b2);
  jx_buf_free(&b3);
  jx_value_free(&back);
  jx_value_free(&s1);
  jx_value_free(&s2);
}

static void test_codec__every_truncation_rejected(void **state) {
  (void)state;
  jx_value v = sample();
  jx_buf b = encode(&v);
  for (size_t n = 0; n < b.len; n++) {
    /* A copy of exactly n bytes, so ASan sees any read past the frame. */
    char *prefix = malloc(n ? n : 1);
    memcpy(prefix, b.data, n);
    jx_value out = jx_int(7);
    assert_int_equal(jx_codec_decode(&out, prefix, n, CAP), JX_EINVAL);
    assert_int_equal(out.type, JX_NIL);
    assert_true(strncmp(jx_err_last()->msg, "truncated msgpack: ",
                        strlen("truncated msgpack: ")) == 0);
    free(prefix);
  }
  jx_value out;
  assert_int_equal(jx_codec_decode(&out, b.data, b.len, CAP), 0);
  assert_true(jx_value_equal(&out, &v));
  jx_value_free(&out);
  jx_buf_free(&b);
  jx_value_free(&v);
  expect_reject_raw(NULL, 0, CAP,
                    "truncated msgpack: a value expected at byte 0, where the "
                    "frame ends");
  expect_reject("d9 0c 61 61",
                "truncated msgpack: a str of 12 bytes at byte 0 needs 14 "
                "bytes, 4 given");
  expect_reject("92 01 cd 01",
                "truncated msgpack: a uint16 at byte 2 needs 5 bytes, 4 given");
  expect_reject("92 cc 01",
                "truncated msgpack: a value expected at byte 3, where the "
                "frame ends");
}

/* The messages come from the validator, so msgpack-c never saw these
 * headers and never reserved what they announce. */
static void test_codec__count_bombs_rejected(void **state) {
  (void)state;
  expect_reject("dd 04 00 00 00",
                "truncated msgpack: an array of 67108864 elements at byte 0 "
                "needs at least 67108869 bytes, 5 given");
  expect_reject("df ff ff ff ff",
                "truncated msgpack: a map of 4294967295 pairs at byte 0 needs "
                "at least 8589934595 bytes, 5 given");
  expect_reject("dc ff ff c0",
                "truncated msgpack: an array of 65535 elements at byte 0 "
                "needs at least 65538 bytes, 4 given");
  expect_reject("91 91 dd ff ff ff ff",
                "truncated msgpack: an array of 4294967295 elements at byte 2 "
                "needs at least 4294967302 bytes, 7 given");
  expect_reject("db ff ff ff ff 61",
                "truncated msgpack: a str of 4294967295 bytes at byte 0 needs "
                "4294967300 bytes, 6 given");
  expect_reject("c6 7f ff ff ff",
                "truncated msgpack: a bin of 2147483647 bytes at byte 0 needs "
                "2147483652 bytes, 5 given");
  /* A map needs two bytes a pair: 3 pairs in 5 bytes cannot fit. */
  expect_reject("83 c0 c0 c0 c0 c0",
                "truncated msgpack: a map of 3 pairs at byte 0 needs at least "
                "7 bytes, 6 given");

  /* The bound holds inside a full-size frame too. */
  size_t len = 1000;
  char *frame = calloc(len, 1);
  memcpy(frame, "\xdd\x00\x01\x00\x00", 5);
  expect_reject_raw(frame, len, CAP,
                    "truncated msgpack: an array of 65536 elements at byte 0 "
                    "needs at least 65541 bytes, 1000 given");
  free(frame);
}

/* n nested arrays (or maps), the innermost holding nil, or empty. */
static size_t nest(char *out, int n, bool maps, bool empty_inside) {
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    bool last = i == n - 1;
    if (maps) {
      out[len++] = (char)(last && empty_inside ? 0x80 : 0x81);
      if (!(last && empty_inside)) {
        out[len++] = (char)0xa1;
        out[len++] = 'k';
      }
    } else {
      out[len++] = (char)(last && empty_inside ? 0x90 : 0x91);
    }
  }
  if (!empty_inside)
    out[len++] = (char)0xc0;
  return len;
}

static void test_codec__depth_limit(void **state) {
  (void)state;
  char bytes[200];
  char msg[128];
  for (int maps = 0; maps <= 1; maps++) {
    for (int empty = 0; empty <= 1; empty++) {
      size_t n = nest(bytes, JX_CODEC_MAX_DEPTH, maps, empty);
      jx_value v;
      assert_int_equal(jx_codec_decode(&v, bytes, n, CAP), 0);
      jx_buf b = encode(&v);
      assert_int_equal(b.len, n);
      assert_memory_equal(b.data, bytes, n);
      jx_buf_free(&b);
      jx_value_free(&v);

      n = nest(bytes, JX_CODEC_MAX_DEPTH + 1, maps, empty);
      snprintf(msg, sizeof msg, "msgpack nesting deeper than 32 at byte %d",
               maps ? 3 * JX_CODEC_MAX_DEPTH : JX_CODEC_MAX_DEPTH);
      expect_reject_raw(bytes, n, CAP, msg);
    }
  }

  /* Our limit is msgpack-c's: it accepts 32 and fails 33 with an error. */
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0, n = nest(bytes, JX_CODEC_MAX_DEPTH, false, false);
  assert_int_equal(msgpack_unpack_next(&up, bytes, n, &off),
                   MSGPACK_UNPACK_SUCCESS);
  off = 0;
  n = nest(bytes, JX_CODEC_MAX_DEPTH + 1, false, false);
  assert_true(msgpack_unpack_next(&up, bytes, n, &off) < 0);
  msgpack_unpacked_destroy(&up);
}

static void test_codec__frame_cap(void **state) {
  (void)state;
  jx_value v = sample(), out;
  jx_buf b = encode(&v);
  assert_int_equal(jx_codec_decode(&out, b.data, b.len, b.len), 0);
  jx_value_free(&out);
  char msg[128];
  snprintf(msg, sizeof msg,
           "msgpack frame of %zu bytes exceeds the limit of %zu", b.len,
           b.len - 1);
  expect_reject_raw(b.data, b.len, b.len - 1, msg);
  jx_buf_free(&b);
  jx_value_free(&v);

  /* Refused on its length alone: the bytes are never read. */
  size_t big = 2000000;
  char *frame = malloc(big);
  memset(frame, 0xc1, big);
  expect_reject_raw(frame, big, 1048576,
                    "msgpack frame of 2000000 bytes exceeds the limit of "
                    "1048576");
  free(frame);
}

static void test_codec__map_keys(void **state) {
  (void)state;
  expect_reject("81 01 02",
                "msgpack map key at byte 1 is not a string but a fixint");
  expect_reject("91 82 a1 61 01 c0 02",
                "msgpack map key at byte 5 is not a string but a nil");
  expect_reject("81 91 a1 61 01",
                "msgpack map key at byte 1 is not a string but an array");
  expect_reject("81 a2 61 00 01",
                "msgpack map key at byte 1 contains a NUL byte");
  expect_reject("82 a1 61 01 a1 61 02",
                "msgpack map key at byte 4 repeats an earlier key of the same "
                "map");
  /* A bin key and a str key with the same bytes are the same key. */
  expect_reject("83 a1 62 01 c4 01 61 02 a1 61 03",
                "msgpack map key at byte 8 repeats an earlier key of the same "
                "map");
  expect_reject("82 a0 01 c4 00 02",
                "msgpack map key at byte 3 repeats an earlier key of the same "
                "map");
  expect_reject("91 83 a1 61 01 a1 62 02 a1 61 03",
                "msgpack map key at byte 8 repeats an earlier key of the same "
                "map");
  expect_reject("91 81 a1 61",
                "truncated msgpack: a value expected at byte 4, where the "
                "frame ends");

  jx_value v = decode_hex("82 c4 01 6b 01 a0 02");
  int64_t i;
  assert_true(jx_map_int(&v, "k", &i) && i == 1);
  assert_true(jx_map_int(&v, "", &i) && i == 2);
  jx_value_free(&v);
}

static void test_codec__ext_rejected(void **state) {
  (void)state;
  expect_reject(
      "d4 01 00",
      "msgpack ext value at byte 0 (type byte 0xd4) is not supported");
  expect_reject(
      "d6 ff 00 00 00 00",
      "msgpack ext value at byte 0 (type byte 0xd6) is not supported");
  expect_reject(
      "d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      "msgpack ext value at byte 0 (type byte 0xd8) is not supported");
  expect_reject(
      "c7 01 05 00",
      "msgpack ext value at byte 0 (type byte 0xc7) is not supported");
  expect_reject(
      "c9 00 00 00 01 05 00",
      "msgpack ext value at byte 0 (type byte 0xc9) is not supported");
  expect_reject(
      "92 c0 d5 01 00 00",
      "msgpack ext value at byte 2 (type byte 0xd5) is not supported");
  expect_reject(
      "81 a1 61 c8 00 01 05 00",
      "msgpack ext value at byte 3 (type byte 0xc8) is not supported");
  expect_reject("c1", "invalid msgpack: the type byte 0xc1 at byte 0 is never "
                      "used");
}

static void test_codec__trailing_bytes(void **state) {
  (void)state;
  expect_reject("c0 c0", "trailing bytes after the msgpack object at byte 1: "
                         "it ends there, the frame has 2 bytes");
  expect_reject("92 01 02 03 04",
                "trailing bytes after the msgpack object at byte 3: it ends "
                "there, the frame has 5 bytes");
}

static void test_codec__int64_range(void **state) {
  (void)state;
  jx_value v = decode_hex("cf 7f ff ff ff ff ff ff ff");
  assert_int_equal(v.type, JX_INT);
  assert_true(v.u.i == INT64_MAX);
  expect_reject("cf 80 00 00 00 00 00 00 00",
                "msgpack integer 9223372036854775808 at byte 0 exceeds the "
                "int64 range");
  expect_reject("91 cf ff ff ff ff ff ff ff ff",
                "msgpack integer 18446744073709551615 at byte 1 exceeds the "
                "int64 range");
  v = decode_hex("d3 80 00 00 00 00 00 00 00");
  assert_true(v.u.i == INT64_MIN);
}

/* Forms jixiao never writes but other producers may. */
static void test_codec__foreign_forms_accepted(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int64_t want;
  } ints[] = {{"cc 05", 5},
              {"d0 05", 5},
              {"d3 00 00 00 00 00 00 00 05", 5},
              {"d0 fb", -5},
              {"ce ff ff ff ff", 4294967295}};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    jx_value v = decode_hex(ints[i].hex);
    assert_int_equal(v.type, JX_INT);
    assert_true(v.u.i == ints[i].want);
  }
  jx_value f = decode_hex("ca 3f c0 00 00");
  assert_int_equal(f.type, JX_FLOAT);
  assert_true(f.u.f == 1.5);
  jx_value s = decode_hex("c4 03 61 00 63");
  assert_int_equal(s.type, JX_STR);
  assert_int_equal(s.u.s.len, 3);
  assert_memory_equal(s.u.s.ptr, "a\0c", 3);
  jx_value_free(&s);
  s = decode_hex("d9 01 61");
  assert_string_equal(s.u.s.ptr, "a");
  jx_value_free(&s);
}

/* xorshift64*: a fixed seed makes every failure reproducible. */
static uint64_t rng_state;
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Type bytes that open lengths and containers hit the validator hardest. */
static unsigned char fuzz_byte(void) {
  static const unsigned char heads[] = {
      0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0x82, 0x8f, 0x90, 0x91, 0x92,
      0x9f, 0xa0, 0xa1, 0xa3, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,
      0xc6, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4,
      0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
  uint64_t r = rng();
  if (r & 1)
    return (unsigned char)(r >> 8);
  return heads[(r >> 8) % sizeof heads];
}

/* Decodes; whatever it accepts must re-encode to bytes that decode to the
 * same encoding again. */
static void fuzz_one(const char *data, size_t len, int *accepted) {
  jx_value v = jx_nil();
  int rc = jx_codec_decode(&v, data, len, 4096);
  if (rc) {
    assert_int_equal(rc, JX_EINVAL);
    assert_int_equal(v.type, JX_NIL);
    /* The validator, not msgpack-c, must be the one to refuse. */
    assert_null(strstr(jx_err_last()->msg, "msgpack-c"));
    return;
  }
  (*accepted)++;
  jx_buf b1 = encode(&v);
  jx_value w;
  assert_int_equal(jx_codec_decode(&w, b1.data, b1.len, SIZE_MAX), 0);
  jx_buf b2 = encode(&w);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  jx_buf_free(&b1);
  jx_buf_free(&b2);
  jx_value_free(&v);
  jx_value_free(&w);
}

static void test_codec__fuzz_never_crashes(void **state) {
  (void)state;
  rng_state = 0x6a697869616f2121ULL;
  int accepted = 0;
  for (int i = 0; i < 20000; i++) {
    size_t len = rng() % 48;
    char *buf = malloc(len ? len : 1);
    for (size_t j = 0; j < len; j++)
      buf[j] = (char)fuzz_byte();
    fuzz_one(buf, len, &accepted);
    free(buf);
  }
  assert_true(accepted > 0);

  jx_value v = sample();
  jx_buf valid = encode(&v);
  jx_value_free(&v);
  accepted = 0;
  for (int i = 0; i < 20000; i++) {
    size_t len = valid.len;
    char *buf = malloc(len + 8);
    memcpy(buf, valid.data, len);
    for (int m = 1 + (int)(rng() % 4); m > 0 && len > 0; m--) {
      size_t at = rng() % len;
      switch (rng() % 5) {
      case 0: /* flip bits */
        buf[at] ^= (char)(1u << (rng() % 8));
        break;
      case 1: /* a type byte where any byte was */
        buf[at] = (char)fuzz_byte();
        break;
      case 2: /* drop a byte */
        memmove(buf + at, buf + at + 1, len - at - 1);
        len--;
        break;
      case 3: /* insert a byte, within the spare room */
        if (len < valid.len + 8) {
          memmove(buf + at + 1, buf + at, len - at);
          buf[at] = (char)fuzz_byte();
          len++;
        }
        break;
      default: /* truncate */
        len = at;
        break;
      }
    }
    /* Exactly len bytes, so ASan sees any read past the frame. */
    char *frame = malloc(len ? len : 1);
    memcpy(frame, buf, len);
    fuzz_one(frame, len, &accepted);
    free(frame);
    free(buf);
  }
  assert_true(accepted > 0);
  jx_buf_free(&valid);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codec__scalars_round_trip),
      cmocka_unit_test(test_codec__strings_round_trip),
      cmocka_unit_test(test_codec__containers_round_trip),
      cmocka_unit_test(test_codec__smallest_forms),
      cmocka_unit_test(test_codec__deterministic),
      cmocka_unit_test(test_codec__every_truncation_rejected),
      cmocka_unit_test(test_codec__count_bombs_rejected),
      cmocka_unit_test(test_codec__depth_limit),
      cmocka_unit_test(test_codec__frame_cap),
      cmocka_unit_test(test_codec__map_keys),
      cmocka_unit_test(test_codec__ext_rejected),
      cmocka_unit_test(test_codec__trailing_bytes),
      cmocka_unit_test(test_codec__int64_range),
      cmocka_unit_test(test_codec__foreign_forms_accepted),
      cmocka_unit_test(test_codec__fuzz_never_crashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
