# The daemon's protocol (docs/PROTOCOL.md) driven by an independent
# msgpack implementation: tests/node/client.mjs, on Node.js and
# @msgpack/msgpack, against a real `jx serve --clock virtual`.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"

NODE_DIR=$SRC/tests/node
# Missing tools fail the test: a skipped protocol test would pass unseen.
if ! command -v node >/dev/null 2>&1; then
  echo "FAIL node is not installed: run scripts/bootstrap"
  exit 1
fi
if [ ! -d "$NODE_DIR/node_modules/@msgpack/msgpack" ]; then
  echo "FAIL $NODE_DIR/node_modules is missing: run scripts/bootstrap"
  exit 1
fi

expect 0 "init" -- jx init
# edu-school-2 and fin-perf: for the hostile clients' revoked and replaced tokens.
for actor in edu-school-1 edu-dept fin-business fin-budget edu-school-2 fin-perf; do
  expect 0 "token for $actor" -- jx token create "$actor"
  n=$(printf '%s\n' "$OUT" | grep -c .)
  [ "$n" -eq 1 ] || { failures=$((failures + 1)); echo "FAIL token create printed $n lines, wanted 1: $OUT"; }
  eval "TOKEN_$(printf '%s' "$actor" | tr -c 'A-Za-z0-9\n' _)=\$OUT"
done
contains "$TOKEN_edu_school_1" '^[^[:space:]]+$' "a token is one word"
if [ "$TOKEN_edu_school_1" = "$TOKEN_edu_dept" ]; then
  failures=$((failures + 1)); echo "FAIL two actors got the same token"
fi

SOCK=$STORE/jx.sock
SERVE=
# On any exit, the daemon does not outlive the test.
trap '[ -z "$SERVE" ] || kill -KILL $SERVE 2>/dev/null; rm -rf "$T"' EXIT

# serve LOG: starts the daemon, its stderr to LOG, and waits for its socket.
serve() {
  # Not the jx function: $! must be the daemon itself, to signal it.
  "$JX" serve --clock virtual 2>"$1" &
  SERVE=$!
  i=0
  until [ -S "$SOCK" ] && grep -q serving "$1"; do
    [ $i -lt 100 ] && kill -0 $SERVE 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  checks=$((checks + 1))
  if [ ! -S "$SOCK" ]; then
    failures=$((failures + 1))
    printf 'FAIL jx serve made no socket %s in 10 s\n  stderr: %s\n' "$SOCK" "$(cat "$1")"
    finish
  fi
  contains "$(cat "$1")" "serving" "serve says on stderr it is serving"
  contains "$(stat -c %a "$SOCK")" '^660$' "the socket is mode 0660"
}

# stop LOG: SIGTERM; the daemon finishes what was decided and exits 0.
stop() {
  kill -TERM $SERVE
  checks=$((checks + 1))
  wait $SERVE
  rc=$?
  SERVE=
  if [ $rc -ne 0 ]; then
    failures=$((failures + 1))
    printf 'FAIL jx serve exited %d on SIGTERM\n  stderr: %s\n' "$rc" "$(cat "$1")"
  fi
}

client() {
  timeout 120 node "$NODE_DIR/client.mjs" --socket "$SOCK" \
    --token "edu-school-1=$TOKEN_edu_school_1" --token "edu-dept=$TOKEN_edu_dept" \
    --token "fin-business=$TOKEN_fin_business" --token "fin-budget=$TOKEN_fin_budget" \
    --token "edu-school-2=$TOKEN_edu_school_2" --token "fin-perf=$TOKEN_fin_perf" "$@"
}

# run SCENARIO [OPTION...]: one client.mjs scenario, in a process of its own.
run() {
  scenario=$1
  shift
  expect 0 "node scenario $scenario" -- client "$@" "$scenario" &&
    contains "$OUT" "^scenario $scenario: [0-9]+ checks passed\$" "scenario $scenario passed"
  # The scenario's count, and what the protocol leaves open and how the
  # daemon chose.
  printf '%s\n' "$OUT" | grep -E '^(scenario .*passed|note: )' || true
}

serve "$T/serve.err"

# Each scenario builds on the store the ones before it left (client.mjs).
for scenario in auth submit subscribe reads refusal errors pipeline malformed tick; do
  run "$scenario"
done
checks=$((checks + 1))
kill -0 $SERVE 2>/dev/null || { failures=$((failures + 1)); echo "FAIL the daemon died during the scenarios"; }
stop "$T/serve.err"

# What the daemon committed is an ordinary store.
store_intact "after the node client"
expect 0 "jx log N-1" -- jx log N-1
contains "$OUT" "dept_approve: N-1 dept_review -> finance_review" "log has the daemon's dept_approve"
contains "$OUT" "submit: N-1 draft -> dept_review" "log has the daemon's submit"
expect 0 "jx show N-2" -- jx show N-2 --json
contains "$OUT" '"status": "finance_review"' "the bulk do approved N-2"
expect 3 "the refused submission stored nothing" -- jx show N-BAD
expect 3 "the \`as\` attempt stored nothing" -- jx show N-4

# Hostile clients, against the daemon restarted with small limits: a
# client is let go once 64 KiB of answers wait for it, 8 connections are
# served at once (every scenario but flood uses at most 3), and one that
# has not authenticated within 2 s is closed.
MAX_WRITE_BUFFER=65536
MAX_CLIENTS=8
AUTH_SECONDS=2
printf '\n[serve]\nmax_write_buffer = %d\nmax_clients = %d\nauth_seconds = %d\n' \
  "$MAX_WRITE_BUFFER" "$MAX_CLIENTS" "$AUTH_SECONDS" >>"$T/workflow.toml"
serve "$T/serve-hostile.err"
for scenario in truncated vanish slowreader eager impostor injection nuldo nulsubmit oversized flood silent; do
  run "$scenario" --max-clients "$MAX_CLIENTS" --max-write-buffer "$MAX_WRITE_BUFFER" \
    --auth-seconds "$AUTH_SECONDS" --jx "$JX"
done
checks=$((checks + 1))
kill -0 $SERVE 2>/dev/null || { failures=$((failures + 1)); echo "FAIL the daemon died during the hostile clients"; }
stop "$T/serve-hostile.err"
LOG=$(cat "$T/serve-hostile.err")
contains "$LOG" "client [0-9]+ as edu-school-1: disconnected: it does not read its responses" \
  "the log names the client that does not read"
contains "$LOG" "client [0-9]+: disconnected: it did not authenticate within \[serve\] auth_seconds" \
  "the log names the client that did not authenticate"
checks=$((checks + 1))
n=$(printf '%s\n' "$LOG" | grep -c 'refused: \[serve\] max_clients reached')
# flood: 20 at once, MAX_CLIENTS of them served, then one more. The retries
# that follow the flood's close may be refused too, until the daemon has
# read the closes: at least that many, not exactly.
if [ "$n" -lt $((20 - MAX_CLIENTS + 1)) ]; then
  failures=$((failures + 1))
  printf 'FAIL the log names %d connections refused for max_clients, wanted at least %d (20 - %d, and one more)\n%s\n' \
    "$n" $((20 - MAX_CLIENTS + 1)) "$MAX_CLIENTS" "$LOG"
fi

# Only the projects the scenarios made have refs; nothing outside refs/jx/.
store_intact "after the hostile clients"
checks=$((checks + 1))
refs=$(git --git-dir "$STORE" for-each-ref --format='%(refname)' | sort)
want=$(printf 'refs/jx/projects/%s\n' N-1 N-2 N-3 H-1 H-2 H-3 H-4 H-5 H-7; echo refs/jx/seal)
want=$(printf '%s\n' "$want" | sort)
if [ "$refs" != "$want" ]; then
  failures=$((failures + 1))
  printf 'FAIL the store has other refs than the projects made:\n%s\n  wanted:\n%s\n' "$refs" "$want"
fi
expect 0 "jx show H-2" -- jx show H-2 --json
contains "$OUT" '"status": "finance_review"' "the vanished client's dept_approve of H-2 is in the store"
expect 3 "the 2 MiB submission stored nothing" -- jx show H-8
expect 3 "the NUL-byte submission stored no H-6" -- jx show H-6
finish
