#include "jx_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jx_err.h"

extern char **environ;

/* A private directory (0700) for one run's files: nobody else can name,
 * plant or read them. */
typedef struct workdir {
  char path[256];
} workdir;

static int workdir_make(workdir *w) {
  const char *tmp = getenv("TMPDIR");
  snprintf(w->path, sizeof w->path, "%s/jx-sign-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(w->path))
    return jx_err_set(JX_ESTORE, "a temporary directory: %s",
                      strerror(errno));
  return 0;
}

static char *file_in(const workdir *w, const char *name, char *out,
                     size_t size) {
  snprintf(out, size, "%s/%s", w->path, name);
  return out;
}

static void workdir_remove(workdir *w) {
  static const char *const files[] = {"data", "sig", "out", "err",
                                      "allowed"};
  char p[300];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    unlink(file_in(w, files[i], p, sizeof p));
  rmdir(w->path);
}

static int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      return jx_err_set(JX_ESTORE, "%s: %s", path, strerror(e));
    }
    data += n;
    len -= (size_t)n;
  }
  return close(fd) == 0 ? 0 : jx_err_set(JX_ESTORE, "%s: %s", path,
                                         strerror(errno));
}

/* Runs ssh-keygen with argv, stdin from `in`, stdout into w's "out";
 * 0 when it exits 0, else JX_ESTORE with what it said. */
static int ssh_keygen(const workdir *w, char *const argv[], const char *in) {
  char out[300], err[300];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t dflt;
  pid_t pid;
  int status = 0;
  file_in(w, "out", out, sizeof out);
  file_in(w, "err", err, sizeof err);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  /* A SIGCHLD ignored by whoever started jx would make the child's exit
   * status unreadable; the child gets the default. */
  posix_spawnattr_init(&attr);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGCHLD);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  int e = posix_spawnp(&pid, "ssh-keygen", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (e)
    return jx_err_set(JX_ESTORE,
                      "cannot run ssh-keygen (package openssh-client): %s",
                      strerror(e));
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  if (got < 0)
    return jx_err_set(JX_ESTORE, "ssh-keygen: its exit status is lost: %s",
                      strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  /* ssh-keygen says why on stderr, or on stdout (verify). */
  jx_buf msg = JX_BUF_INIT;
  jx_buf_read_file(&msg, err, 4096);
  if (!msg.len)
    jx_buf_read_file(&msg, out, 4096);
  while (msg.len && msg.data[msg.len - 1] == '\n')
    msg.data[--msg.len] = '\0';
  int rc = jx_err_set(JX_ESTORE, "ssh-keygen %s: %s", argv[2],
                      msg.data && *msg.data ? msg.data : "failed");
  jx_buf_free(&msg);
  return rc;
}

int jx_sign(const char *key_path, const char *data, size_t len, jx_buf *sig) {
  workdir w;
  char in[300], out[300];
  int rc = workdir_make(&w);
  if (rc < 0)
    return rc;
  /* Signing from stdin writes the signature to stdout: no .sig file
   * beside the data for anyone to plant first. */
  char *argv[] = {"ssh-keygen", "-Y", "sign", "-n", "git", "-q", "-f",
                  (char *)key_path, NULL};
  if ((rc = write_file(file_in(&w, "data", in, sizeof in), data, len)) == 0 &&
      (rc = ssh_keygen(&w, argv, in)) == 0) {
    int err = jx_buf_read_file(sig, file_in(&w, "out", out, sizeof out),
                               1 << 16);
    if (err || !sig->len)
      rc = jx_err_set(JX_ESTORE, "ssh-keygen sign: no signature came out");
  }
  workdir_remove(&w);
  return rc;
}

int jx_sign_verify(const char *pub_path, const char *data, size_t len,
                   const char *sig) {
  workdir w;
  char in[300], sigpath[300], allowed[300];
  jx_buf pub = JX_BUF_INIT, line = JX_BUF_INIT;
  int err = jx_buf_read_file(&pub, pub_path, 1 << 16);
  if (err)
    return jx_err_set(JX_EINVAL, "%s: cannot read: %s", pub_path,
                      strerror(err));
  /* ssh-keygen -Y verify takes an allowed-signers file: "principal key". */
  jx_buf_printf(&line, "jixiao %s", pub.data ? pub.data : "");
  int rc = workdir_make(&w);
  if (rc == 0) {
    char *argv[] = {"ssh-keygen", "-Y", "verify", "-n", "git", "-I",
                    "jixiao", "-f", file_in(&w, "allowed", allowed,
                                            sizeof allowed),
                    "-s", file_in(&w, "sig", sigpath, sizeof sigpath), NULL};
    if ((rc = write_file(file_in(&w, "data", in, sizeof in), data, len)) ==
            0 &&
        (rc = write_file(sigpath, sig, strlen(sig))) == 0 &&
        (rc = write_file(allowed, line.data, line.len)) == 0)
      rc = ssh_keygen(&w, argv, in);
    workdir_remove(&w);
  }
  jx_buf_free(&pub);
  jx_buf_free(&line);
  return rc;
}
