/*
 * jx_date: the dates users give (--at, --to, a request's "at"), read the
 * same way by the CLI and the daemon.  No memory is kept.
 */
#ifndef JX_DATE_H
#define JX_DATE_H

#include <stdint.h>

/* Reads s: YYYY-MM-DD, optionally THH:MM[:SS] and a zone (Z or +08:00; no
 * zone means UTC) into seconds since the epoch; NULL means now.
 * Impossible dates are refused, not rolled over, and the year must be
 * 2000-2099: a budget year, and within what git's tools show correctly.
 * JX_EINVAL names `what` (the option or parameter: "--at") and s. */
int jx_date_parse(const char *what, const char *s, int64_t *out);

#endif
