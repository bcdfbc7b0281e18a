#include "jx_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jx_err.h"

extern char **environ;

/* A temporary file holding len bytes; its path into path (size >= 64). */
static int temp_file(char *path, const char *suffix, const char *data,
                     size_t len) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, 256, "%s/jx-sign-XXXXXX%s", dir && *dir ? dir : "/tmp",
           suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  if (fd < 0) {
    *path = '\0';
    return jx_err_set(JX_ESTORE, "a temporary file: %s", strerror(errno));
  }
  while (len) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int e = errno;
      close(fd);
      unlink(path);
      *path = '\0';
      return jx_err_set(JX_ESTORE, "a temporary file: %s", strerror(e));
    }
    data += w;
    len -= (size_t)w;
  }
  close(fd);
  return 0;
}

/* Runs ssh-keygen with argv, stdin from `in` (or /dev/null); 0 when it
 * exits 0, else JX_ESTORE with what it printed. */
static int ssh_keygen(char *const argv[], const char *in) {
  char errpath[256];
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0, rc;
  if ((rc = temp_file(errpath, ".err", "", 0)) < 0)
    return rc;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY,
                                   0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_TRUNC, 0);
  int err = posix_spawnp(&pid, "ssh-keygen", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err) {
    unlink(errpath);
    return jx_err_set(JX_ESTORE,
                      "cannot run ssh-keygen (package openssh-client): %s",
                      strerror(err));
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  rc = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    jx_buf msg = JX_BUF_INIT;
    jx_buf_read_file(&msg, errpath, 4096);
    while (msg.len && (msg.data[msg.len - 1] == '\n'))
      msg.data[--msg.len] = '\0';
    rc = jx_err_set(JX_ESTORE, "ssh-keygen %s: %s", argv[2],
                    msg.data && *msg.data ? msg.data : "failed");
    jx_buf_free(&msg);
  }
  unlink(errpath);
  return rc;
}

int jx_sign(const char *key_path, const char *data, size_t len, jx_buf *sig) {
  char path[256], sigpath[300];
  int rc = temp_file(path, ".seal", data, len);
  if (rc < 0)
    return rc;
  char *argv[] = {"ssh-keygen", "-Y", "sign", "-n", "git", "-q", "-f",
                  (char *)key_path, path, NULL};
  snprintf(sigpath, sizeof sigpath, "%s.sig", path);
  if ((rc = ssh_keygen(argv, NULL)) == 0) {
    int err = jx_buf_read_file(sig, sigpath, 1 << 16);
    if (err)
      rc = jx_err_set(JX_ESTORE, "%s: %s", sigpath, strerror(err));
  }
  unlink(sigpath);
  unlink(path);
  return rc;
}

int jx_sign_verify(const char *pub_path, const char *data, size_t len,
                   const char *sig) {
  char datapath[256] = "", sigpath[256] = "", allowed[256] = "";
  jx_buf pub = JX_BUF_INIT, line = JX_BUF_INIT;
  int err = jx_buf_read_file(&pub, pub_path, 1 << 16);
  if (err)
    return jx_err_set(JX_EINVAL, "%s: cannot read: %s", pub_path,
                      strerror(err));
  /* ssh-keygen -Y verify takes an allowed-signers file: "principal key". */
  jx_buf_printf(&line, "jixiao %s", pub.data ? pub.data : "");
  int rc = temp_file(datapath, ".seal", data, len);
  if (rc == 0)
    rc = temp_file(sigpath, ".sig", sig, strlen(sig));
  if (rc == 0)
    rc = temp_file(allowed, ".allowed", line.data, line.len);
  if (rc == 0) {
    char *argv[] = {"ssh-keygen", "-Y", "verify", "-n", "git", "-I",
                    "jixiao", "-f", allowed, "-s", sigpath, NULL};
    rc = ssh_keygen(argv, datapath);
  }
  /* A temporary file not made leaves its name empty. */
  const char *made[] = {datapath, sigpath, allowed};
  for (size_t i = 0; i < 3; i++)
    if (*made[i] && access(made[i], F_OK) == 0)
      unlink(made[i]);
  jx_buf_free(&pub);
  jx_buf_free(&line);
  return rc;
}
