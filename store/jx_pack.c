/* A git pack stream: see jx_pack.h.  Format: gitformat-pack(5). */
#include "jx_pack.h"

#include <openssl/evp.h>
#include <string.h>

#include "jx_err.h"

#define HEADER_LEN 12

static void put_be32(unsigned char *p, uint32_t x) {
  p[0] = (unsigned char)(x >> 24);
  p[1] = (unsigned char)(x >> 16);
  p[2] = (unsigned char)(x >> 8);
  p[3] = (unsigned char)x;
}

/* An entry's header: the type in bits 4-6 of the first byte, the size in
 * its low 4 bits and then 7 bits per byte, lowest first; a set high bit
 * says another byte follows. */
static void put_entry_header(jx_buf *b, git_object_t type, size_t len) {
  unsigned char h[16];
  size_t n = 0;
  h[n] = (unsigned char)(((unsigned)type << 4) | (len & 0x0f));
  for (len >>= 4; len; len >>= 7) {
    h[n++] |= 0x80;
    h[n] = (unsigned char)(len & 0x7f);
  }
  jx_buf_append(b, h, n + 1);
}

static void start(jx_pack *p) {
  if (p->buf.len == 0)
    jx_buf_append(&p->buf, "PACK\0\0\0\2\0\0\0\0", HEADER_LEN);
}

int jx_pack_add(jx_pack *p, git_object_t type, const void *data, size_t len) {
  if (!p->z_ready) {
    /* deflateReset clears a hash table of 2^(memLevel + 7) entries: the
     * default (memLevel 8, 64 KiB) made resetting cost more than
     * compressing objects of a few hundred bytes. */
    if (deflateInit2(&p->z, Z_BEST_SPEED, Z_DEFLATED, 15, 2,
                     Z_DEFAULT_STRATEGY) != Z_OK)
      return jx_err_set(JX_ESTORE, "cannot start zlib: %s",
                        p->z.msg ? p->z.msg : "out of memory");
    p->z_ready = true;
  } else if (deflateReset(&p->z) != Z_OK) {
    return jx_err_set(JX_ESTORE, "cannot reset zlib");
  }
  start(p);
  put_entry_header(&p->buf, type, len);
  size_t room = deflateBound(&p->z, (uLong)len);
  p->z.next_in = (Bytef *)data;
  p->z.avail_in = (uInt)len;
  p->z.next_out = (Bytef *)jx_buf_reserve(&p->buf, room);
  p->z.avail_out = (uInt)room;
  if (deflate(&p->z, Z_FINISH) != Z_STREAM_END)
    return jx_err_set(JX_ESTORE, "cannot deflate an object of %zu bytes",
                      len);
  p->buf.len += room - p->z.avail_out;
  p->count++;
  return 0;
}

void jx_pack_add_entry(jx_pack *p, const void *entry, size_t len) {
  start(p);
  jx_buf_append(&p->buf, entry, len);
  p->count++;
}

int jx_pack_finish(jx_pack *p, const char **data, size_t *len) {
  unsigned char sum[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  *data = p->buf.data;
  *len = 0;
  if (!p->count)
    return 0;
  put_be32((unsigned char *)p->buf.data + 8, p->count);
  if (!EVP_Digest(p->buf.data, p->buf.len, sum, &n, EVP_sha1(), NULL))
    return jx_err_set(JX_ESTORE, "cannot compute the pack's SHA-1");
  jx_buf_append(&p->buf, sum, n);
  *data = p->buf.data;
  *len = p->buf.len;
  return 0;
}

void jx_pack_reset(jx_pack *p) {
  p->buf.len = 0;
  p->count = 0;
}

void jx_pack_free(jx_pack *p) {
  if (p->z_ready)
    deflateEnd(&p->z);
  jx_buf_free(&p->buf);
  *p = (jx_pack)JX_PACK_INIT;
}
