# The audit trail read with plain git (textconv: jx cat) and exported for
# auditors' own tools (jx export).
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
project a.toml A-1 1000 new "$TARGETS"
cat >a.jx <<'JX'
at 2021-03-01
submit a.toml
do A-1 dept_approve --as edu-dept --at 2021-03-02
do A-1 return --as fin-business --at 2021-03-03 --set return_to=previous \
  --set 'review_note="a note, with a comma"'
JX
expect 0 "three decisions" -- jx run a.jx
ref=refs/jx/projects/A-1
# Without the textconv, msgpack is binary to git; with it, readable JSON.
expect 0 "git show" -- git --git-dir "$STORE" show $ref
contains "$OUT" "Binary files a/state.msgpack and b/state.msgpack differ" "binary without the driver"
expect 0 "git log -p with jx cat" -- git --git-dir "$STORE" -c diff.jx.textconv="$JX cat" log -p -1 $ref
contains "$OUT" '^-  "status": "finance_review"' "the old status, as text"
contains "$OUT" '^\+  "status": "dept_review"' "the new status"
contains "$OUT" '^\+ +"return_to": "previous"' "what the event set"
printf 'not msgpack \377' >bad.msgpack
expect 1 "jx cat of a file that is no msgpack" -- jx cat bad.msgpack
contains "$ERR" "bad.msgpack" "the file is named"
expect 1 "jx cat of a missing file" -- jx cat nosuch.msgpack
# Export: one row per commit, oldest first, as CSV and JSON.
expect 0 "export" -- jx export
contains "$OUT" "^project,seq,time,event,actor,role,from,to,commit,rule_set,set$" "the header"
contains "$OUT" "^A-1,3,2021-03-03T00:00:00Z,return,fin-business,finance_business,finance_review,dept_review," "the return"
rows=$(printf '%s\n' "$OUT" | grep -c '^A-1,')
commits=$(git --git-dir "$STORE" rev-list --count $ref)
contains "$rows" "^$commits\$" "a row per commit ($commits)"
contains "$OUT" '"a note, with a comma"' "JSON of the set fields, quoted as CSV"
expect 0 "export as JSON" -- jx export --format json
contains "$OUT" '"event": "submit"' "JSON"
expect 1 "an unknown format" -- jx export --format xml
contains "$ERR" "csv or json" "named"
# jx why: a decision in words, from the commit and its own rule set.
expect 0 "why the head" -- jx why A-1
contains "$OUT" "fin-business sent return \(role finance_business\): finance_review -> dept_review" "the event and actor"
contains "$OUT" 'return_to = "previous"' "what it set"
first=$(git --git-dir "$STORE" rev-list --reverse $ref | head -1)
expect 0 "why the submission" -- jx why A-1 "$(printf '%.10s' "$first")"
contains "$OUT" "r2_ex_ante guarded it, with:" "the rules that ran"
contains "$OUT" "threshold = 5000000" "with their parameters"
contains "$OUT" "Rule set [0-9a-f]{12}, definition budget-project version 1" "the rule set"
contains "$OUT" "Every guard accepted it" "what they said"
# The parameters are the rule set's, not today's workflow.toml.
sed -i 's/^threshold = 5000000 /threshold = 3000000 /' workflow.toml
expect 0 "why, after the deployment changed" -- jx why A-1 "$first"
contains "$OUT" "threshold = 5000000" "the threshold in force then"
expect 3 "an unknown commit" -- jx why A-1 deadbeef
expect 3 "an unknown project" -- jx why NOPE
# jx audit replay: under the rule set of each commit, not today's.
expect 0 "replay" -- jx audit replay
contains "$OUT" "replayed 3 decisions: 3 identical, 0 differ" "identical"
printf 'return { guard = function() return { rule = "X", reason = "no", remedy = "no" } end }\n' >plugins/r1_staffing.lua
expect 0 "today's plugins changed: the record still replays" -- jx audit replay A-1
contains "$OUT" "3 identical" "the stored rule set decides"
cp "$SRC/plugins/r1_staffing.lua" plugins/
# A state written by other means than the rules: replay says where.
# (After a later batch, so that the last seal no longer stands for A-1.)
project b.toml B-1 1000 new "$TARGETS"
expect 0 "a later batch" -- jx submit b.toml --at 2021-03-04
g() { git --git-dir "$STORE" "$@"; }
printf '\203\242id\243A-1\246status\253dept_review\243seq\003' >state.bin
blob=$(g hash-object -w state.bin)
tree=$(g ls-tree $ref | sed "s/[0-9a-f]\{40\}\tstate.msgpack/$blob\tstate.msgpack/" | g mktree)
g update-ref $ref "$(g cat-file commit $ref | sed '1,/^$/d' | g commit-tree -p $ref~1 "$tree")"
expect 4 "replay of a forged state" -- jx audit replay A-1
contains "$OUT" "^A-1 [0-9a-f]{12} return: the state differs in: " "named, with what differs"
store_intact "after the audit reads"
finish
