/*
 * jx_codec: jx_value <-> msgpack, the encoding of every state and event the
 * store writes and of every frame a client sends.
 *
 * Encoding is deterministic: maps are written in jx_value's sorted key order
 * and every integer in its smallest form, so one value always yields the
 * same bytes (the store hashes them).  Decoding treats its input as hostile:
 * an own structural pass bounds every length, count and the nesting depth
 * before msgpack-c sees a byte, because msgpack-c 4.0.0 preallocates what a
 * header announces (5 bytes can reserve 1.6 GB) and reports deep nesting as
 * out-of-memory.
 *
 * Memory: the encoder appends to a caller-owned jx_buf; a decoded value is
 * the caller's, freed with jx_value_free.  Nothing is kept between calls.
 * Threads: any thread; errors go to that thread's jx_err_last().
 */
#ifndef JX_CODEC_H
#define JX_CODEC_H

#include <stddef.h>

#include "jx_buf.h"
#include "jx_value.h"

/* Containers nest at most this deep: msgpack-c's own stack limit. */
#define JX_CODEC_MAX_DEPTH 32

/* Appends the msgpack encoding of v to out (which keeps owning its data).
 * Integers use the smallest form, floats float64, strings str, map keys in
 * v's sorted order, so equal values encode to equal bytes.  Refuses, with
 * JX_EINVAL and out unchanged, what the decoder would refuse to read back:
 * nesting deeper than JX_CODEC_MAX_DEPTH, or more than max_len bytes. */
int jx_codec_encode(jx_buf *out, const jx_value *v, size_t max_len);

/* Decodes the single msgpack object that fills [data, data + len) exactly.
 * max_len is the frame cap: a longer len is refused before any parsing.
 * Accepts nil, bool, integers within int64, float32 (widened) and float64,
 * str and bin (both become JX_STR), arrays, and maps whose keys are distinct
 * str or bin without NUL bytes.  Refuses ext types, 0xc1, uint64 above
 * INT64_MAX, nesting deeper than JX_CODEC_MAX_DEPTH, truncation and trailing
 * bytes.
 * Returns 0 with *out owning the value, or JX_EINVAL with *out nil and a
 * message naming the fault and its byte offset (counted from 0). */
int jx_codec_decode(jx_value *out, const char *data, size_t len,
                    size_t max_len);

/* For a stream of frames (msgpack-RPC): measures the object that starts
 * at data, of which len bytes have arrived.  Returns 0 with *frame_len its
 * length when it is whole (bytes after it are the next frame's), 1 when it
 * is cut short, with *need the least total length it can have (measure
 * again once that many bytes are in: a frame arriving in pieces is not
 * rescanned per piece), or JX_EINVAL when the bytes can never be a valid
 * frame: malformed as jx_codec_decode refuses, or longer than max_len,
 * which is told as soon as a header announces it. */
int jx_codec_measure(const char *data, size_t len, size_t max_len,
                     size_t *frame_len, size_t *need);

#endif
