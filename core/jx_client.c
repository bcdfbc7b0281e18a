/* A blocking msgpack-RPC client: see jx_client.h. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_client.h"
#include "jx_codec.h"
#include "jx_err.h"
#include "jx_rpc.h"

/* Answers can be bigger than requests (a list of every project): what the
 * daemon sends is taken up to this. */
#define MAX_ANSWER ((size_t)1 << 30)

struct jx_client {
  int fd;
  char *addr;
  size_t max_frame;
  uint32_t next_id;
  jx_buf in;   /* bytes read and not yet a whole message */
  size_t need; /* the least length the message in `in` can have */
};

static int dial_unix(const char *path, bool *absent) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    *absent = true; /* no daemon can listen there either */
    return jx_err_set(JX_ECONN, "%s: socket path too long", path);
  }
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
    return fd;
  int err = errno;
  if (fd >= 0)
    close(fd);
  /* A daemon this user may not reach is none for this user: reads open
   * the store themselves, writes meet the daemon's lock and its name. */
  *absent = err == ENOENT || err == ECONNREFUSED || err == EACCES ||
            err == ENOTDIR;
  return jx_err_set(JX_ECONN, "no daemon answers at %s: %s", path,
                    strerror(err));
}

static int dial_tcp(const char *spec) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon)
    return jx_err_set(JX_ECONN, "tcp:%s: expected tcp:HOST:PORT", spec);
  snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int gai = getaddrinfo(host, colon + 1, &hints, &res);
  if (gai)
    return jx_err_set(JX_ECONN, "tcp:%s: %s", spec, gai_strerror(gai));
  int fd = -1, err = 0;
  for (struct addrinfo *r = res; r && fd < 0; r = r->ai_next) {
    fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, r->ai_protocol);
    if (fd >= 0 && connect(fd, r->ai_addr, r->ai_addrlen) < 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return jx_err_set(JX_ECONN, "no daemon answers at tcp:%s: %s", spec,
                      strerror(err));
  return fd;
}

int jx_client_connect(jx_client **out, const char *addr, size_t max_frame,
                      bool *absent) {
  *absent = false;
  int fd = strncmp(addr, "tcp:", 4) == 0 ? dial_tcp(addr + 4)
                                          : dial_unix(addr, absent);
  if (fd < 0)
    return fd;
  jx_client *c = jx_xcalloc(1, sizeof *c);
  c->fd = fd;
  c->addr = jx_xstrdup(addr);
  c->max_frame = max_frame;
  c->next_id = 1;
  *out = c;
  return 0;
}

static int lost(jx_client *c, const char *what) {
  return jx_err_set(JX_ECONN, "daemon at %s: %s", c->addr, what);
}

static int send_all(jx_client *c, const jx_buf *b) {
  for (size_t off = 0; off < b->len;) {
    ssize_t n = send(c->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return lost(c, strerror(errno));
    off += (size_t)n;
  }
  return 0;
}

int jx_client_read(jx_client *c, jx_value *msg) {
  for (;;) {
    size_t frame = 0, need = 0;
    int rc = c->in.len && c->in.len >= c->need
                 ? jx_codec_measure(c->in.data, c->in.len, MAX_ANSWER,
                                    &frame, &need)
                 : 1;
    if (rc < 0)
      return jx_err_recode(JX_ECONN);
    if (rc == 1 && need)
      c->need = need;
    if (rc == 0) {
      c->need = 0;
      rc = jx_codec_decode(msg, c->in.data, frame, MAX_ANSWER);
      memmove(c->in.data, c->in.data + frame, c->in.len - frame);
      c->in.len -= frame;
      return rc < 0 ? jx_err_recode(JX_ECONN) : 0;
    }
    char chunk[65536];
    ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return lost(c, n == 0 ? "it closed the connection" : strerror(errno));
    jx_buf_append(&c->in, chunk, (size_t)n);
  }
}

int jx_client_call(jx_client *c, const char *method, jx_value params,
                   jx_value *result, jx_value *error) {
  uint32_t id = c->next_id++;
  jx_value req = jx_array(), args = jx_array();
  jx_buf b = JX_BUF_INIT;
  *result = *error = jx_nil();
  if (params.type != JX_NIL)
    jx_array_push(&args, params);
  jx_array_push(&req, jx_int(JX_RPC_REQUEST));
  jx_array_push(&req, jx_int(id));
  jx_array_push(&req, jx_str(method));
  jx_array_push(&req, args);
  int rc = jx_codec_encode(&b, &req, c->max_frame);
  jx_value_free(&req);
  if (rc == 0)
    rc = send_all(c, &b);
  jx_buf_free(&b);
  while (rc == 0) {
    jx_value msg;
    if ((rc = jx_client_read(c, &msg)) < 0)
      break;
    const jx_value *m = msg.u.a.items;
    bool mine = msg.type == JX_ARRAY && msg.u.a.len == 4 &&
                m[0].type == JX_INT && m[0].u.i == JX_RPC_RESPONSE &&
                m[1].type == JX_INT && m[1].u.i == id;
    if (mine && m[2].type == JX_MAP) {
      int64_t code = 0;
      jx_map_int(&m[2], "code", &code);
      const char *text = jx_map_str(&m[2], "message");
      rc = jx_err_set(code > 0 && code < 100 ? (int)-code : JX_ECONN, "%s",
                      text ? text : "the daemon sent an error without a "
                                    "message");
      *error = jx_value_copy(&m[2]);
    } else if (mine) {
      *result = jx_value_copy(&m[3]);
      jx_value_free(&msg);
      return 0;
    } else if (msg.type == JX_ARRAY && msg.u.a.len == 4 &&
               m[0].type == JX_INT && m[0].u.i == JX_RPC_RESPONSE &&
               m[1].type == JX_INT && m[1].u.i == 0 && m[2].type == JX_MAP) {
      /* msgid 0: the daemon could not read what we sent */
      const char *text = jx_map_str(&m[2], "message");
      rc = lost(c, text ? text : "it refused the request");
    }
    jx_value_free(&msg);
  }
  return rc;
}

void jx_client_free(jx_client *c) {
  if (!c)
    return;
  close(c->fd);
  free(c->addr);
  jx_buf_free(&c->in);
  free(c);
}
