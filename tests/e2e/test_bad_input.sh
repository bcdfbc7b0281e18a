# Every bad input named by issue 3 gives a clear message, its own exit
# status, and leaves the store intact.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"

expect 4 "no store yet" -- jx list
contains "$ERR" "store.git.*jx init" "missing store says to run jx init"
expect 0 "init" -- jx init
project ok.toml P-OK 100 new "$TARGETS"
expect 0 "a good project" -- jx submit ok.toml
head_before=$(git --git-dir "$STORE" rev-parse refs/jx/projects/P-OK)

# --- configuration ---------------------------------------------------------
printf '[store]\npath = "s.git"\n[workflow\n' >bad.toml
expect 1 "malformed TOML" -- jx -c bad.toml list
contains "$ERR" "bad.toml:3:[0-9]+:" "TOML error has file:line:column"
sed 's/^max_batch = 1000 /max_batch = -5 /' workflow.toml >neg.toml
expect 1 "negative max_batch" -- jx -c neg.toml list
contains "$ERR" "neg.toml:[0-9]+:[0-9]+: .*max_batch" "names the key and its place"
sed 's/^\[sandbox\]/[sandbx]/' workflow.toml >typo.toml
expect 1 "unknown section" -- jx -c typo.toml list
contains "$ERR" "typo.toml:[0-9]+:[0-9]+: .*sandbx" "names the unknown section"
expect 1 "missing config" -- jx -c nowhere.toml list
contains "$ERR" "nowhere.toml" "names the missing file"
printf '[workflow]\nname = "x"\ninitial = "nowhere"\n[states]\na = { phase = "review" }\n' >wf.toml
sed 's|^definition = .*|definition = "wf.toml"|' workflow.toml >wfcfg.toml
expect 1 "workflow definition with an unknown state" -- jx -c wfcfg.toml submit ok.toml
contains "$ERR" "wf.toml:3:[0-9]+: .*nowhere" "definition error has its place"

# --- project files and ids ----------------------------------------------------
printf 'id = "P-X"\namount = \n' >broken.toml
expect 1 "malformed project file" -- jx submit broken.toml
contains "$ERR" "broken.toml:2:[0-9]+:" "project TOML error has its place"
project noamount.toml P-NOAMOUNT '"lots"' new "$TARGETS"
expect 1 "amount of the wrong type" -- jx submit noamount.toml
contains "$ERR" "noamount.toml:[0-9]+:[0-9]+: .*amount" "names amount"
expect 3 "unknown project" -- jx show P-NOPE
contains "$ERR" "no project P-NOPE" "names the project"
expect 3 "unknown project, do" -- jx do P-NOPE dept_approve --as edu-dept
for bad in '../x' 'a/b' "$(printf 'a\001b')" '' \
           'x234567890123456789012345678901234567890123456789012345678901234567' \
           '.hidden' 'x.lock'; do
  expect 1 "id '$bad' refused" -- jx show "$bad"
  contains "$ERR" "project id .* is not valid" "id '$bad' message"
done
project evil.toml '../evil' 100 new "$TARGETS"
expect 1 "a project file with a hostile id" -- jx submit evil.toml
[ ! -e "$T/evil" ] && [ ! -e "$STORE/refs/evil" ] ||
  { failures=$((failures + 1)); echo "FAIL hostile id reached the disk"; }
expect 1 "a hostile actor" -- jx do P-OK dept_approve --as '../root'
contains "$ERR" "actor .* is not valid" "actor message"
expect 1 "unknown actor" -- jx do P-OK dept_approve --as nobody
contains "$ERR" "unknown actor \"nobody\"" "unknown actor message"
expect 1 "unknown event" -- jx do P-OK fly --as edu-dept
contains "$ERR" "unknown event \"fly\"" "unknown event message"
expect 2 "event not allowed now" -- jx do P-OK release --as fin-budget
contains "$ERR" "refused by workflow" "state refusal names the rule"
contains "$ERR" "reason: event release is not allowed in state dept_review" "state refusal reason"
contains "$ERR" "remedy: send release when the project is in: approved" "state refusal remedy"
expect 2 "wrong role" -- jx do P-OK dept_approve --as edu-school-1
contains "$ERR" "needs department" "role refusal names the role"
expect 2 "other department" -- jx do P-OK dept_approve --as hlt-dept
contains "$ERR" "acts for department health; the project belongs to education" "department refusal"
expect 1 "an event may set only its fields" -- jx do P-OK dept_approve --as hlt-dept --set department=health
contains "$ERR" "event dept_approve may not set field \"department\"" "names event and field"
sed 's/^unit = "edu-school-1"/unit = "edu-school-2"/' ok.toml | sed 's/^id = "P-OK"/id = "P-UNIT"/' >unit2.toml
expect 2 "a unit may not submit for another unit" -- jx submit unit2.toml --as edu-school-1
contains "$ERR" "acts for unit edu-school-1; the project belongs to edu-school-2" "unit scope"
project kind.toml P-KIND 50000000 New
expect 1 "an unknown kind" -- jx submit kind.toml
contains "$ERR" "kind.toml:6:[0-9]+: field \"kind\": \"New\" is not one of new" "kind refused at its line"
project typo.toml P-TYPO 100 new 'ex_ante_conclsion = "support"' "$TARGETS"
expect 1 "an unknown field" -- jx submit typo.toml
contains "$ERR" "typo.toml:[0-9]+:[0-9]+: field \"ex_ante_conclsion\" is not a field" "typo refused"
expect 1 "a number that is not a number" -- jx do P-OK return --as edu-dept --set review_note=1 
contains "$ERR" "field \"review_note\" must be a string" "type checked"
expect 1 "an event dated before the last one" -- jx do P-OK dept_approve --as edu-dept --at 2000-01-01
contains "$ERR" "before the project's last event" "time goes forward"
expect 1 "engine-owned field" -- jx do P-OK dept_approve --as edu-dept --set status=approved
contains "$ERR" "\"status\" is kept by the engine" "names the field"
expect 1 "bad --at" -- jx do P-OK dept_approve --as edu-dept --at yesterday
expect 1 "unknown option" -- jx list --frobnicate
expect 1 "unknown command" -- jx frobnicate

# --- plugins that misbehave ------------------------------------------------------
cat >>workflow.toml <<'TOML'
[[plugin]]
name = "extra"
file = "extra.lua"
TOML
sed -i 's/guards = \["progress", "r1_staffing", "r2_ex_ante", "r3_targets"\]/guards = ["progress", "r1_staffing", "r2_ex_ante", "r3_targets", "extra"]/' workflows/budget.toml
project p2.toml P-2 100 new "$TARGETS"
bad_plugin() {
  what=$1 pattern=$2
  printf '%s\n' "$3" >plugins/extra.lua
  expect 5 "plugin that $what" -- jx submit p2.toml
  contains "$ERR" "plugin extra.*$pattern" "plugin that $what: message"
}
bad_plugin "errors" "boom" 'return { guard = function() error("boom") end }'
bad_plugin "loops" "instructions" 'return { guard = function() while true do end end }'
bad_plugin "allocates" "memory" 'return { guard = function() local s = "x" for i = 1, 64 do s = s .. s end end }'
bad_plugin "uses io" "io" 'return { guard = function() return io.open("/etc/passwd") end }'
bad_plugin "uses os" "os" 'return { guard = function() os.exit(0) end }'
bad_plugin "is not a table" "table" 'return 42'
lua5.4 -e 'io.write(string.dump(function() return { guard = function() return true end } end))' >plugins/extra.lua
expect 5 "bytecode plugin" -- jx submit p2.toml
contains "$ERR" "extra.*(binary|bytecode|text)" "bytecode is refused"
printf 'return { guard = function() return { rule = "X-1", reason = "no", remedy = "yes" } end }\n' >plugins/extra.lua
expect 2 "a plugin refusal names its rule" -- jx submit p2.toml
contains "$ERR" "refused by X-1" "custom rule named"
contains "$ERR" "reason: no" "custom reason"
contains "$ERR" "remedy: yes" "custom remedy"
printf 'return { guard = function() return true end }\n' >plugins/extra.lua
expect 0 "the engine still works after all that" -- jx submit p2.toml
expect 0 "P-OK is untouched" -- git --git-dir "$STORE" rev-parse refs/jx/projects/P-OK
[ "$OUT" = "$head_before" ] || { failures=$((failures + 1)); echo "FAIL P-OK moved"; }

# --- a damaged store: truncated msgpack in a state blob -------------------------
g() { git --git-dir "$STORE" "$@"; }
ref=refs/jx/projects/P-OK
blob=$(g cat-file blob $ref:state.msgpack | head -c 10 | g hash-object -w --stdin)
tree=$(g ls-tree $ref | sed "s/[0-9a-f]\{40\}\tstate.msgpack/$blob\tstate.msgpack/" | g mktree)
bad=$(g commit-tree "$tree" -p $ref -m "truncated state")
g update-ref $ref "$bad"
expect 4 "truncated msgpack state" -- jx show P-OK
contains "$ERR" "P-OK.*state.msgpack.*truncated" "names project, file and the truncation"
expect 4 "no decision on a damaged state" -- jx do P-OK dept_approve --as edu-dept
g update-ref $ref "$head_before"

# --- the store in use, and a full disk ------------------------------------------
flock "$STORE/jx.lock" sleep 1 &
sleep 0.3
expect 0 "reads never wait for the writer's lock" -- jx show P-OK
expect 0 "a writer waits for the lock" -- jx do P-OK return --as edu-dept --set return_to=returned --set 'review_note="wait"'
wait
sed 's/^lock_wait_ms = 10000 /lock_wait_ms = 200 /' workflow.toml >impatient.toml
flock "$STORE/jx.lock" sleep 2 &
sleep 0.3
expect 4 "store locked for longer than lock_wait_ms" -- jx -c impatient.toml do P-OK submit --as edu-school-1
contains "$ERR" "in use by another jx process .*200 ms" "lock message"
wait
project p3.toml P-3 100 new "$TARGETS"
# The limit would also stop writes to a captured stderr file: use a pipe.
ERR=$( { sh -c 'ulimit -f 0; exec "$0" submit p3.toml' "$JX" 2>&1 >/dev/null; echo "exit=$?"; } | cat)
contains "$ERR" "exit=4" "disk full (file size limit 0): exit status 4"
contains "$ERR" "pack.*(large|space)" "disk full: names the failed write"
expect 3 "nothing of the failed write is visible" -- jx show P-3
store_intact "after every bad input"
expect 0 "and the same write succeeds afterwards" -- jx submit p3.toml
store_intact "at the end"
finish
