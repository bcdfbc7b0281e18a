/* Dates as users write them: see jx_date.h. */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "jx_date.h"
#include "jx_err.h"

int jx_date_parse(const char *what, const char *s, int64_t *out) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, n = 0, k;
  char sign = '+';
  if (!s) {
    *out = (int64_t)time(NULL);
    return 0;
  }
  bool ok = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10;
  if (ok && s[n] == 'T') {
    k = 0;
    ok = sscanf(s + n, "T%2d:%2d%n", &h, &mi, &k) == 2 && k == 6;
    n += k;
    if (ok && s[n] == ':') {
      k = 0;
      ok = sscanf(s + n, ":%2d%n", &sec, &k) == 1 && k == 3;
      n += k;
    }
  }
  if (ok && s[n] == 'Z') {
    n++;
  } else if (ok && (s[n] == '+' || s[n] == '-')) {
    sign = s[n];
    k = 0;
    ok = sscanf(s + n + 1, "%2d:%2d%n", &zh, &zm, &k) == 2 && k == 5 &&
         zh < 15 && zm < 60;
    n += 1 + k;
  }
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = sec};
  time_t t = ok && !s[n] ? timegm(&tm) : (time_t)-1;
  /* timegm normalises 2021-02-30 to March: compare to catch it. */
  if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 ||
      tm.tm_mday != d || tm.tm_hour != h || tm.tm_min != mi ||
      tm.tm_sec != sec || y < 2000 || y > 2099)
    return jx_err_set(JX_EINVAL,
                      "%s %s: expected a date of 2000-2099 as YYYY-MM-DD, "
                      "optionally with THH:MM[:SS] and a zone (Z, +08:00)",
                      what, s);
  int64_t offset = ((int64_t)zh * 60 + zm) * 60;
  *out = (int64_t)t - (sign == '+' ? offset : -offset);
  return 0;
}

