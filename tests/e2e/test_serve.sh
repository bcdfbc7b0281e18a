# The daemon (jx serve) through the CLI: tokens, the same output as
# embedded, several clients at once, live notifications in commit order,
# the store's lock, and SIGTERM draining without loss.  (The protocol seen
# from an independent msgpack implementation: test_node_client.sh.)
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"

# A writer waits at most this long for a lock the daemon holds.
sed -i 's/^lock_wait_ms = .*/lock_wait_ms = 300/' workflow.toml
SOCK=$STORE/jx.sock
tok() { t=$1; shift; JX_TOKEN=$t "$JX" "$@"; }
DAEMON=

start_daemon() {
  "$JX" serve "$@" 2>>"$T/serve.log" &
  DAEMON=$!
  for _ in $(seq 100); do
    [ -S "$SOCK" ] && grep -q serving "$T/serve.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL the daemon did not start:"; cat "$T/serve.log"
  failures=$((failures + 1))
}

# stop_daemon [SIGNAL]: SIGTERM (or SIGINT), and the daemon must exit 0.
stop_daemon() {
  kill -s "${1:-SIGTERM}" "$DAEMON"
  wait "$DAEMON"
  rc=$?
  checks=$((checks + 1))
  [ "$rc" -eq 0 ] || { failures=$((failures + 1)); echo "FAIL daemon exit $rc"; cat "$T/serve.log"; }
}
trap '[ -n "$DAEMON" ] && kill -9 "$DAEMON" 2>/dev/null; rm -rf "$T"' EXIT

expect 0 "init" -- jx init
expect 0 "token for a unit" -- jx token create edu-school-1
SCHOOL=$OUT
contains "$SCHOOL" '^jxt_[0-9a-f]{64}$' "a token is printed, alone"
expect 0 "token for a department" -- jx token create edu-dept
DEPT=$OUT
expect 0 "token for another department" -- jx token create hlt-dept
HLT=$OUT
expect 1 "no token for an unknown actor" -- jx token create nobody
contains "$ERR" 'no actor "nobody"' "the unknown actor is named"
checks=$((checks + 1))
grep -q "$SCHOOL" "$STORE/tokens" && { failures=$((failures + 1)); echo "FAIL a token in clear"; }
expect 0 "token list" -- jx token list
contains "$OUT" "edu-dept" "listed"

project p1.toml P-1 100000 continue "$TARGETS"
project p2.toml P-2 200000 continue "$TARGETS"
start_daemon --clock virtual
contains "$(cat "$T/serve.log")" "serving .* \(virtual clock\)" "the daemon says where it serves"

# --- authentication -------------------------------------------------------
expect 6 "a write without a token" -- jx submit p1.toml --at 2021-03-01
contains "$ERR" "JX_TOKEN" "says where a token goes"
expect 6 "a wrong token" -- tok jxt_0000000000000000000000000000000000000000000000000000000000000000 submit p1.toml --at 2021-03-01
contains "$ERR" "unknown or revoked token" "says the token is not known"
expect 3 "nothing was written" -- jx --embedded show P-1
expect 6 "another actor's token" -- tok "$SCHOOL" do P-1 dept_approve --as edu-dept
contains "$ERR" "acts as edu-school-1, not edu-dept" "names both actors"
expect 7 "--connect to nothing" -- jx --connect "$T/none.sock" list
contains "$ERR" "no daemon answers at" "says nothing answers"

# --- writes through the daemon, read back ----------------------------------
expect 0 "submit through the daemon" -- tok "$SCHOOL" submit p1.toml --at 2021-03-01
contains "$OUT" "^P-1: draft -> dept_review \(commit [0-9a-f]{11}\)$" "the embedded line"
expect 0 "a second submit" -- tok "$SCHOOL" submit p2.toml --at 2021-03-01
expect 2 "the submitter cannot approve" -- tok "$SCHOOL" do P-1 dept_approve --as edu-school-1 --at 2021-03-02
contains "$ERR" "refused by workflow" "the refusal names the rule"
contains "$ERR" "remedy: " "and the remedy"
expect 2 "another department's project" -- tok "$HLT" do P-1 dept_approve --as hlt-dept --at 2021-03-02
expect 0 "the inbox, each actor's own" -- tok "$DEPT" inbox --as edu-dept
contains "$OUT" "2 waiting for edu-dept" "edu-dept sees both"
expect 0 "another actor's inbox" -- tok "$HLT" inbox --as hlt-dept
contains "$OUT" "0 waiting for hlt-dept" "hlt-dept sees none"
# An unknown actor is the same mistake through the daemon as embedded.
expect 1 "the inbox of an unknown actor" -- tok "$DEPT" inbox --as nobody
contains "$ERR" 'no actor "nobody"' "the unknown actor is named, not its token"
expect 1 "an event by an unknown actor" -- tok "$DEPT" do P-1 dept_approve --as nobody --at 2021-03-02
expect 0 "show through the daemon" -- tok "$DEPT" show P-1
VIA=$OUT
expect 0 "show read directly" -- jx show P-1
checks=$((checks + 1))
[ "$VIA" = "$OUT" ] || { failures=$((failures + 1)); printf 'FAIL show differs:\n%s\n---\n%s\n' "$VIA" "$OUT"; }
expect 0 "list --json through the daemon" -- tok "$DEPT" list --json
VIA=$OUT
expect 0 "list --json read directly" -- jx list --json
checks=$((checks + 1))
[ "$VIA" = "$OUT" ] || { failures=$((failures + 1)); echo "FAIL list --json differs"; }

# --- the lock: embedded writes wait for nobody -----------------------------
expect 4 "an embedded write while the daemon holds the store" -- jx --embedded do P-1 dept_approve --as edu-dept
contains "$ERR" "in use by another jx process" "the lock is named"
contains "$ERR" "a daemon \(jx serve\) serves this store at .*jx.sock: drop --embedded" "and the daemon that holds it"

# --- notifications, in commit order, and concurrent clients ----------------
env JX_TOKEN="$DEPT" "$JX" watch department education --count 2 >"$T/watch" 2>"$T/watch.err" &
WATCH=$!
for _ in $(seq 50); do grep -q watching "$T/watch.err" && break; sleep 0.1; done
env JX_TOKEN="$DEPT" "$JX" do P-1 dept_approve --as edu-dept --at 2021-03-05 >"$T/c1" 2>&1 &
C1=$!
env JX_TOKEN="$DEPT" "$JX" do P-2 dept_approve --as edu-dept --at 2021-03-05 >"$T/c2" 2>&1 &
C2=$!
wait $C1; r1=$?
wait $C2; r2=$?
wait $WATCH
checks=$((checks + 1))
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] || { failures=$((failures + 1)); echo "FAIL concurrent clients: $r1 $r2"; cat "$T/c1" "$T/c2"; }
W=$(cat "$T/watch")
contains "$W" "P-1: dept_approve dept_review -> finance_review by edu-dept" "P-1 notified"
contains "$W" "P-2: dept_approve dept_review -> finance_review by edu-dept" "P-2 notified"
# Commit order: the seal that first lists each notified commit comes no
# earlier than the previous notification's.
seal_of() {
  n=0
  for seal in $(git --git-dir "$STORE" rev-list --reverse refs/jx/seal); do
    n=$((n + 1))
    git --git-dir "$STORE" cat-file -p "$seal:heads" | grep -q "^$1" && { echo $n; return; }
  done
  echo none
}
first=$(sed -n 1p "$T/watch" | grep -oE 'commit [0-9a-f]{11}' | cut -c8-)
second=$(sed -n 2p "$T/watch" | grep -oE 'commit [0-9a-f]{11}' | cut -c8-)
s1=$(seal_of "$first") s2=$(seal_of "$second")
checks=$((checks + 1))
[ "$s1" != none ] && [ "$s2" != none ] && [ "$s1" -le "$s2" ] ||
  { failures=$((failures + 1)); echo "FAIL notification order: $first in seal $s1, then $second in seal $s2"; }

# --- the calendar through the daemon: tick with an admin actor -------------
expect 0 "admin token" -- jx token create fin-budget
ADMIN=$OUT
expect 2 "a department may not move the calendar" -- tok "$DEPT" tick --to 2021-03-31 --as edu-dept
expect 0 "the admin ticks" -- tok "$ADMIN" tick --to 2021-03-31 --as fin-budget
contains "$OUT" "tick to 2021-03-31" "the tick's summary"

# --- the registry and migrations through the daemon ------------------------
expect 2 "only admin roles change the registry" -- tok "$DEPT" actor add edu-school-3 --as edu-dept --at 2021-03-31 --set role=unit --set department=education --set unit=edu-school-3
expect 0 "the admin registers a school" -- tok "$ADMIN" actor add edu-school-3 --as fin-budget --at 2021-03-31 --set role=unit --set department=education --set unit=edu-school-3
contains "$OUT" "^:registry: .* \(commit [0-9a-f]{11}\)$" "the registry's commit"
expect 0 "its token" -- jx token create edu-school-3
NEW=$OUT
project p3.toml P-3 300000 continue "$TARGETS"
sed -i 's/edu-school-1/edu-school-3/' p3.toml
expect 0 "the new actor acts at once, through the daemon" -- tok "$NEW" submit p3.toml --at 2021-04-01
expect 0 "actor list through the daemon" -- tok "$ADMIN" actor list
VIA=$OUT
expect 0 "actor list read directly" -- jx actor list
checks=$((checks + 1))
[ "$VIA" = "$OUT" ] || { failures=$((failures + 1)); printf 'FAIL actor list differs:\n%s\n---\n%s\n' "$VIA" "$OUT"; }
contains "$VIA" "edu-school-3 +unit" "the new school is listed"
expect 0 "migrate --dry-run through the daemon" -- tok "$ADMIN" migrate P-1,P-2 --as fin-budget --dry-run
contains "$OUT" "P-1: runs under version 1 already" "nothing to migrate"

# --- SIGTERM drains: every acknowledged write is in the store -------------
i=0
for p in P-1 P-2; do
  i=$((i + 1))
  env JX_TOKEN="$DEPT" "$JX" do "$p" return --as edu-dept --set return_to=returned --at 2021-04-01 >"$T/d$i" 2>&1 &
done
sleep 0.05
stop_daemon
wait
for n in 1 2; do
  if grep -q "commit" "$T/d$n"; then
    id=$(grep -oE '^P-[0-9]' "$T/d$n")
    expect 0 "acknowledged $id is in the store" -- jx show "$id"
    contains "$OUT" "status +returned" "$id returned"
  fi
done
checks=$((checks + 1))
[ ! -S "$SOCK" ] || { failures=$((failures + 1)); echo "FAIL the socket is left behind"; }
contains "$(cat "$T/serve.log")" "stopped; everything acknowledged is committed" "the daemon says it drained"

# A restart serves the same store; a stale socket of a killed daemon is taken over.
start_daemon --clock virtual
kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null
checks=$((checks + 1))
[ -S "$SOCK" ] || { failures=$((failures + 1)); echo "FAIL kill -9 should leave the socket"; }
: >"$T/serve.log"
start_daemon --clock virtual
expect 0 "the restarted daemon serves the same store" -- tok "$DEPT" show P-1
contains "$OUT" "status " "state read"
expect 4 "a second daemon is refused" -- jx serve --clock virtual
contains "$ERR" "already serves this store" "says so"
stop_daemon

# --- the real clock: the calendar's timers fire by themselves -------------
# It is later than 2021 now: a daemon on the real clock fires every 2021
# timer due for the projects in their states, as actor calendar.
C=$T/c.git
expect 0 "a store for the clock" -- jx --store "$C" init
project clock.toml P-CLOCK 100 continue "$TARGETS"
expect 0 "submit" -- jx --store "$C" submit clock.toml --at 2021-03-01
expect 0 "approve" -- jx --store "$C" do P-CLOCK dept_approve --as edu-dept --at 2021-03-02
expect 0 "approve" -- jx --store "$C" do P-CLOCK finance_approve --as fin-business --at 2021-03-03
expect 0 "release" -- jx --store "$C" do P-CLOCK release --as fin-budget --at 2021-04-01
SOCK=$C/jx.sock
: >"$T/serve.log"
start_daemon --store "$C"
contains "$(cat "$T/serve.log")" "real clock" "the daemon runs on the real clock"
for _ in $(seq 100); do
  git --git-dir "$C" log --format=%an refs/jx/projects/P-CLOCK | grep -q calendar && break
  sleep 0.1
done
contains "$(git --git-dir "$C" log --format='%an %ad %s' --date=short refs/jx/projects/P-CLOCK)" \
  "calendar 2021-06-30 checkpoint" "the half-year checkpoint fired from the clock"
expect 1 "tick is for a virtual clock" -- tok "$(jx --store "$C" token create fin-budget)" --store "$C" tick --to 2021-12-31 --as fin-budget
contains "$ERR" "real clock" "says why"
stop_daemon

# --- TCP, when configured ---------------------------------------------------
PORT=$((20000 + $$ % 20000))
cp workflow.toml tcp.toml
printf '\n[serve]\nlisten = "127.0.0.1:%s"\n' "$PORT" >>tcp.toml
SOCK=$C/jx.sock
: >"$T/serve.log"
start_daemon -c tcp.toml --store "$C" --clock virtual
contains "$(cat "$T/serve.log")" "and tcp:127.0.0.1:$PORT" "listens on TCP too"
expect 0 "a client over TCP" -- tok "$(jx --store "$C" token create edu-dept)" --connect "tcp:127.0.0.1:$PORT" show P-CLOCK
contains "$OUT" "status " "answered over TCP"
stop_daemon

# --- the demo year through the daemon: the same output as embedded ---------
# Every actor of the year has a token, the admin's first (the script's tick
# lines name no actor); each line goes through its actor's connection.
YEAR=$SRC/workflows/demo/2021/year.jx
expect 0 "embedded store for the year" -- jx --store "$T/a.git" init
expect 0 "served store for the year" -- jx --store "$T/b.git" init
jx --store "$T/b.git" actor list | awk 'NR > 1 { print $1 }' >"$T/actors"
{
  echo "fin-budget $(jx --store "$T/b.git" token create fin-budget)"
  grep -v '^fin-budget$' "$T/actors" | while read -r a; do
    echo "$a $(jx --store "$T/b.git" token create "$a")"
  done
} >"$T/tokens"
jx --store "$T/a.git" run "$YEAR" >"$T/year.a" 2>"$T/year.a.err"
ra=$?
SOCK=$T/b.git/jx.sock
: >"$T/serve.log"
start_daemon --store "$T/b.git" --clock virtual
# Other clients at the same time: one follows the education department's
# projects, one reads the list over and over.
JX_TOKEN_FILE=$T/tokens "$JX" --store "$T/b.git" watch department education \
  --as edu-dept >"$T/edu.watch" 2>/dev/null &
WATCH=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
( while :; do JX_TOKEN_FILE=$T/tokens "$JX" --store "$T/b.git" list >/dev/null 2>&1 || exit; done ) &
READER=$!
JX_TOKEN_FILE=$T/tokens "$JX" --store "$T/b.git" run "$YEAR" >"$T/year.b" 2>"$T/year.b.err"
rb=$?
kill "$READER" 2>/dev/null
stop_daemon SIGINT
wait "$WATCH"
# Every change of an education project was notified once, each project's
# in the order of its history.
want=0
for ref in $(git --git-dir "$T/b.git" for-each-ref --format='%(refname)' refs/jx/projects/ | grep /HL2021-EDU-); do
  want=$((want + $(git --git-dir "$T/b.git" rev-list --count "$ref")))
done
contains "$(wc -l <"$T/edu.watch")" "^$want\$" "the watcher saw every education change ($want)"
checks=$((checks + 1))
for ref in $(git --git-dir "$T/b.git" for-each-ref --format='%(refname)' refs/jx/projects/ | grep /HL2021-EDU-); do
  id=${ref##*/}
  git --git-dir "$T/b.git" rev-list --reverse "$ref" | cut -c1-11 >"$T/hist"
  grep " $id: " "$T/edu.watch" | grep -oE 'commit [0-9a-f]{11}' | cut -c8- >"$T/seen"
  cmp -s "$T/hist" "$T/seen" || { failures=$((failures + 1)); echo "FAIL $id: notifications out of its history's order"; break; }
done
checks=$((checks + 1))
[ $ra -eq 2 ] && [ $rb -eq 2 ] || { failures=$((failures + 1)); echo "FAIL the year's exit status: $ra embedded, $rb served (2: refusals expected)"; }
# Commits differ in their committer time only: compare without them.
sed -E 's/commit [0-9a-f]{11}/commit C/' "$T/year.a" >"$T/ya"
sed -E 's/commit [0-9a-f]{11}/commit C/' "$T/year.b" >"$T/yb"
checks=$((checks + 1))
if ! diff "$T/ya" "$T/yb" >"$T/ydiff" || ! diff "$T/year.a.err" "$T/year.b.err" >>"$T/ydiff"; then
  failures=$((failures + 1)); echo "FAIL the year through the daemon prints otherwise:"; head -20 "$T/ydiff"
fi
contains "$(wc -l <"$T/year.b")" "^[0-9]{3}" "the year made hundreds of lines"
expect 0 "the served year verifies" -- jx --store "$T/b.git" audit verify
expect 0 "and replays" -- jx --store "$T/b.git" audit replay

store_intact "after the daemon"
expect 0 "audit verify" -- jx audit verify
expect 0 "audit replay" -- jx audit replay

finish
