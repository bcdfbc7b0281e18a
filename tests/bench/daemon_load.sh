#!/bin/sh
# The daemon under load: a fresh deployment in OUTDIR, a daemon (jx serve
# --clock virtual) on it, jx-load closed-loop with CLIENTS clients, each
# keeping DEPTH requests in flight (on DEPTH of its projects), to find the
# peak, then open-loop at half that rate on fresh projects for the latency
# a daemon shows when it is not saturated; then the daemon is stopped with
# SIGTERM and the store checked (git fsck, jx audit verify).
#
# Why DEPTH: the daemon commits one batch at a time, so a closed loop gets
# batches of about what it keeps in flight (throughput = in flight / batch
# latency); with one request a client, 64 clients make batches too small
# for the engine's peak.  The open loop takes no depth: its rate sets what
# is in flight.
#
# usage: tests/bench/daemon_load.sh OUTDIR [CLIENTS] [PROJECTS] [DEPTH]
#   (defaults: 64 clients, 1,000 projects per run, depth 16; 4 connections
#   a client; DEPTH 1 is the one-request-a-client closed loop)
#   JX_BUILD: the build directory holding jx and jx-load (default: build/
#   of this checkout).
# Prints both load lines, then "fsck: ok" and "verify: ok"; the daemon's
# CPU share during each run goes to stderr.  Exit status 1 if anything
# failed.  OUTDIR keeps the deployment, the store and the logs.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${JX_BUILD:-$SRC/build}
JX=$BUILD/jx
LOAD=$BUILD/jx-load
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [CLIENTS] [PROJECTS] [DEPTH]" >&2; exit 1; }
CLIENTS=${2:-64}
PROJECTS=${3:-1000}
DEPTH=${4:-16}
for b in "$JX" "$LOAD"; do
  [ -x "$b" ] || { echo "daemon_load: $b is not built (JX_BUILD?)" >&2; exit 1; }
done
mkdir -p "$1" || exit 1
OUT=$(cd "$1" && pwd)
STORE=$OUT/store.git
SOCK=$STORE/jx.sock
# Never reuse a store: its projects would already be submitted.
[ ! -e "$STORE" ] || { echo "daemon_load: $STORE exists: give a fresh OUTDIR" >&2; exit 1; }
status=0
DAEMON=
trap '[ -n "$DAEMON" ] && kill -9 "$DAEMON" 2>/dev/null' EXIT

# The deployment, as the end-to-end tests make it: [store] path is
# "store.git", relative to workflow.toml, so the store lands in OUTDIR.
cp "$SRC/workflow.toml" "$OUT/" && cp -r "$SRC/workflows" "$SRC/plugins" "$OUT/" || exit 1
cd "$OUT" || exit 1
"$JX" init >init.log 2>&1 || { cat init.log >&2; exit 1; }
: >tokens
for actor in edu-school-1 edu-dept fin-business fin-budget; do
  token=$("$JX" token create "$actor") || exit 1
  echo "$actor $token" >>tokens
done

# Every request carries its `at`, so the virtual clock needs no tick.
"$JX" serve --clock virtual 2>serve.log &
DAEMON=$!
for _ in $(seq 100); do
  [ -S "$SOCK" ] && grep -q serving serve.log && break
  sleep 0.1
done
[ -S "$SOCK" ] || { echo "daemon_load: the daemon did not start:" >&2; cat serve.log >&2; exit 1; }

# The daemon's CPU time so far (all threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON/stat"; }
HZ=$(getconf CLK_TCK)

# run NAME ARGS...: jx-load, its line kept in NAME.line, and the daemon's
# share of one core over the line's seconds on stderr.
run() {
  name=$1
  shift
  before=$(cpu_ticks)
  "$LOAD" --socket "$SOCK" --tokens tokens --clients "$CLIENTS" \
    --projects "$PROJECTS" "$@" >"$name.line" 2>"$name.err" || status=1
  after=$(cpu_ticks)
  cat "$name.err" >&2
  line=$(tail -n 1 "$name.line")
  [ -n "$line" ] || { echo "daemon_load: jx-load $name printed nothing" >&2; status=1; return; }
  echo "$line"
  secs=$(echo "$line" | sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p')
  awk -v t=$((after - before)) -v hz="$HZ" -v s="$secs" -v n="$name" \
    'BEGIN { if (s > 0) printf "daemon_load: %s: the daemon used %.0f %% of one core\n", n, 100 * t / hz / s }' >&2
}

run closed --prefix L --depth "$DEPTH"
PEAK=$(sed -n 's/.* rate=\([0-9.]*\) .*/\1/p' closed.line)
HALF=$(awk -v r="${PEAK:-0}" 'BEGIN { printf "%.1f", r / 2 }')
if awk -v r="$HALF" 'BEGIN { exit !(r > 0) }'; then
  run open --prefix O --rate "$HALF"
else
  echo "daemon_load: no peak rate measured: open loop skipped" >&2
  status=1
fi

# SIGTERM: the daemon acknowledges what is queued and exits 0.
kill -TERM "$DAEMON"
wait "$DAEMON"
rc=$?
DAEMON=
[ "$rc" -eq 0 ] || { echo "daemon_load: the daemon exited $rc:" >&2; tail -5 serve.log >&2; status=1; }

if git --git-dir "$STORE" fsck --full >fsck.log 2>&1; then
  echo "fsck: ok"
else
  echo "fsck: FAILED (see $OUT/fsck.log)"; status=1
fi
if "$JX" audit verify >verify.log 2>&1; then
  echo "verify: ok"
else
  echo "verify: FAILED (see $OUT/verify.log)"; status=1
fi
exit $status
