# kill -9 in the middle of writes: the store stays clean (git fsck), the
# next jx opens it, removes stale locks and temporary files, rolls project
# refs forward to the last seal, and goes on writing.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
BENCH=${JX_BENCH:?JX_BENCH must point at jx-bench}

for delay in 0.2 0.5 0.9 1.4 2.0; do
  dir=$T/crash-$delay
  mkdir -p "$dir"
  "$BENCH" -c workflow.toml --projects 3000 --batch 500 "$dir" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  STORE=$dir/engine.git
  [ -d "$STORE" ] || continue
  # Leave debris as a crash would: a stale ref lock and a temporary pack.
  mkdir -p "$STORE/refs/jx/projects"
  : >"$STORE/refs/jx/projects/B-0000001.lock"
  : >"$STORE/objects/pack/pack_git2_deadbeef"
  # A reader needs no repair: it takes the last seal's heads over refs.
  expect 0 "kill after ${delay}s: read" -- jx --store "$STORE" list --json
  sealed=""
  if git --git-dir "$STORE" rev-parse -q --verify refs/jx/seal >/dev/null; then
    sealed=$(git --git-dir "$STORE" show refs/jx/seal:heads)
    id=$(printf '%s\n' "$sealed" | head -n 1 | cut -d' ' -f2)
    expect 0 "kill after ${delay}s: show a sealed project" -- jx --store "$STORE" show "$id"
    contains "$OUT" "$(printf '%s\n' "$sealed" | head -n 1 | cut -d' ' -f1)" "reader sees the sealed head"
  fi
  # The next writer removes the debris and rolls project refs forward.
  project crash.toml P-AFTER 100 new "$TARGETS"
  expect 0 "kill after ${delay}s: writing goes on" -- jx --store "$STORE" submit crash.toml
  [ -z "$(find "$STORE" \( -name '*.lock' ! -name jx.lock \) -o -name '*_git2_*')" ] ||
    { failures=$((failures + 1)); echo "FAIL stale files remain after ${delay}s"; }
  checks=$((checks + 1))
  if ! git --git-dir "$STORE" fsck --strict >"$T/fsck" 2>&1; then
    failures=$((failures + 1)); printf 'FAIL fsck after %ss:\n%s\n' "$delay" "$(cat "$T/fsck")"
  fi
  printf '%s\n' "$sealed" | while read -r oid id; do
    [ -n "$oid" ] || continue
    got=$(git --git-dir "$STORE" rev-parse "refs/jx/projects/$id")
    [ "$got" = "$oid" ] || echo "FAIL $id is at $got, not its sealed head $oid, after ${delay}s"
  done >"$T/heads"
  [ -s "$T/heads" ] && { failures=$((failures + 1)); cat "$T/heads"; }
done

# Every transition a client was told is done survives a kill -9 of the
# writer: a loop of jx runs, each printing only after its commit is
# durable, killed at a random moment.
STORE=$T/acked.git
jx --store "$STORE" init >/dev/null
for i in $(seq 1 400); do project "ack$i.toml" "A-$i" 100 new "$TARGETS"; done
( for i in $(seq 1 400); do
    "$JX" --store "$STORE" submit "ack$i.toml" >/dev/null 2>&1 && echo "A-$i"
  done >"$T/acked" ) &
loop=$!
sleep 1.5
pkill -9 -f -- "--store $STORE submit" 2>/dev/null
kill -9 $loop 2>/dev/null
wait 2>/dev/null
pkill -9 -f -- "--store $STORE submit" 2>/dev/null
n=$(wc -l <"$T/acked")
checks=$((checks + 1))
[ "$n" -gt 0 ] || { failures=$((failures + 1)); echo "FAIL no submit finished before the kill"; }
while read -r id; do
  "$JX" --store "$STORE" show "$id" >/dev/null 2>&1 || echo "FAIL acknowledged $id is lost"
done <"$T/acked" >"$T/lost"
checks=$((checks + 1))
[ -s "$T/lost" ] && { failures=$((failures + 1)); cat "$T/lost"; }
expect 0 "after the kill: the store is clean" -- git --git-dir "$STORE" fsck --strict
echo "acknowledged before the kill: $n, all present"
finish
