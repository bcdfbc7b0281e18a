/*
 * jx_sign: SSH signatures of the store's seal commits, made and checked by
 * OpenSSH's ssh-keygen (-Y sign / -Y verify, namespace "git"), the format
 * git itself signs and verifies commits in (gpg.format = ssh): an auditor
 * checks a signed seal with plain git verify-commit as well as with jx.
 *
 * Memory: results go into the caller's buffers.  Runs ssh-keygen as a
 * child process with temporary files; any thread may call it.
 */
#ifndef JX_SIGN_H
#define JX_SIGN_H

#include <stddef.h>

#include "jx_buf.h"

/* Signs len bytes of data with the SSH private key at key_path; the
 * armored signature ("-----BEGIN SSH SIGNATURE-----...") is appended to
 * sig.  JX_ESTORE with ssh-keygen's message on failure. */
int jx_sign(const char *key_path, const char *data, size_t len, jx_buf *sig);

/* Checks that sig is a signature of data by the public key in the file
 * pub_path (an OpenSSH public key line).  0, or JX_ESTORE saying why
 * not. */
int jx_sign_verify(const char *pub_path, const char *data, size_t len,
                   const char *sig);

#endif
