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
for actor in edu-school-1 edu-dept fin-business fin-budget; do
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
# Not the jx function: $! must be the daemon itself, to signal it.
"$JX" serve --clock virtual 2>"$T/serve.err" &
SERVE=$!
# On any exit, the daemon does not outlive the test.
trap '[ -z "$SERVE" ] || kill -KILL $SERVE 2>/dev/null; rm -rf "$T"' EXIT
i=0
until [ -S "$SOCK" ] && grep -q serving "$T/serve.err"; do
  [ $i -lt 100 ] && kill -0 $SERVE 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
checks=$((checks + 1))
if [ ! -S "$SOCK" ]; then
  failures=$((failures + 1))
  printf 'FAIL jx serve made no socket %s in 10 s\n  stderr: %s\n' "$SOCK" "$(cat "$T/serve.err")"
  finish
fi
contains "$(cat "$T/serve.err")" "serving" "serve says on stderr it is serving"
contains "$(stat -c %a "$SOCK")" '^660$' "the socket is mode 0660"

client() {
  timeout 120 node "$NODE_DIR/client.mjs" --socket "$SOCK" \
    --token "edu-school-1=$TOKEN_edu_school_1" --token "edu-dept=$TOKEN_edu_dept" \
    --token "fin-business=$TOKEN_fin_business" --token "fin-budget=$TOKEN_fin_budget" "$@"
}

# Each scenario builds on the store the ones before it left (client.mjs).
for scenario in auth submit subscribe reads refusal errors pipeline malformed tick; do
  expect 0 "node scenario $scenario" -- client "$scenario" &&
    contains "$OUT" "^scenario $scenario: [0-9]+ checks passed\$" "scenario $scenario passed"
  # The scenario's count, and what the protocol leaves open and how the
  # daemon chose.
  printf '%s\n' "$OUT" | grep -E '^(scenario .*passed|note: )' || true
done
checks=$((checks + 1))
kill -0 $SERVE 2>/dev/null || { failures=$((failures + 1)); echo "FAIL the daemon died during the scenarios"; }

# SIGTERM: the daemon finishes what was decided and exits 0.
kill -TERM $SERVE
checks=$((checks + 1))
wait $SERVE
rc=$?
SERVE=
if [ $rc -ne 0 ]; then
  failures=$((failures + 1))
  printf 'FAIL jx serve exited %d on SIGTERM\n  stderr: %s\n' "$rc" "$(cat "$T/serve.err")"
fi

# What the daemon committed is an ordinary store.
store_intact "after the node client"
expect 0 "jx log N-1" -- jx log N-1
contains "$OUT" "dept_approve: N-1 dept_review -> finance_review" "log has the daemon's dept_approve"
contains "$OUT" "submit: N-1 draft -> dept_review" "log has the daemon's submit"
expect 0 "jx show N-2" -- jx show N-2 --json
contains "$OUT" '"status": "finance_review"' "the bulk do approved N-2"
expect 3 "the refused submission stored nothing" -- jx show N-BAD
expect 3 "the \`as\` attempt stored nothing" -- jx show N-4
finish
