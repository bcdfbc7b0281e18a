# One project end to end, R-2 and R-3 at their boundaries, and the store
# checked with the git CLI.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"

expect 0 "init" -- jx init
contains "$OUT" "initialised" "init says so"
expect 0 "init again is harmless" -- jx init
git --git-dir "$STORE" rev-parse --is-bare-repository | grep -q true ||
  { failures=$((failures + 1)); echo "FAIL store is not bare"; }

project big.toml P-BIG 5000000 new "$TARGETS"
expect 2 "R-2 refuses 5,000,000 without a report" -- jx submit big.toml
contains "$ERR" "R-2" "refusal names R-2"
contains "$ERR" "remedy: .*ex_ante_report" "refusal gives the remedy"
expect 3 "a refused submission stores nothing" -- jx show P-BIG

project under.toml P-UNDER 4999999 new "$TARGETS"
expect 0 "4,999,999 is accepted" -- jx submit under.toml --at 2021-03-01
contains "$OUT" "P-UNDER: draft -> dept_review" "submit reports the transition"

project report.toml P-REPORT 5000000 new 'ex_ante_report = "r.pdf"' "$TARGETS"
expect 0 "5,000,000 with a report is accepted" -- jx submit report.toml

project notargets.toml P-NOTARGETS 100 continue
expect 2 "R-3 refuses a project without targets" -- jx submit notargets.toml
contains "$ERR" "R-3" "refusal names R-3"

expect 2 "--json refusal" -- jx --json submit notargets.toml
contains "$OUT" '"rule": "R-3"' "json refusal has the rule"
contains "$OUT" '"remedy"' "json refusal has the remedy"

expect 0 "department approves" -- jx do P-UNDER dept_approve --as edu-dept --at 2021-03-05
expect 0 "finance approves" -- jx do P-UNDER finance_approve --as fin-business --at 2021-03-10 --set 'review_note="ok"'
expect 0 "funds released" -- jx do P-UNDER release --as fin-budget --at 2021-04-01
expect 0 "show" -- jx show P-UNDER
contains "$OUT" "status +executing" "show gives the status"
contains "$OUT" "review_note +ok" "--set fields are kept"
expect 0 "show --json" -- jx show P-UNDER --json
contains "$OUT" '"seq": 4' "four transitions"
contains "$OUT" '"amount": 4999999' "amount kept as a number"

expect 0 "list" -- jx list
contains "$OUT" "P-REPORT +dept_review" "list shows P-REPORT"
expect 0 "list --state" -- jx list --state executing --json
contains "$OUT" '"P-UNDER"' "state filter keeps P-UNDER"
if printf '%s' "$OUT" | grep -q P-REPORT; then
  failures=$((failures + 1)); echo "FAIL list --state kept P-REPORT"
fi

expect 0 "log" -- jx log P-UNDER
contains "$OUT" "release: P-UNDER approved -> executing" "log has the subject"
contains "$OUT" "Rule-set: [0-9a-f]{40}" "log has the rule-set trailer"

# The git CLI sees the same history, with trailers and the rules subtree.
ref=refs/jx/projects/P-UNDER
n=$(git --git-dir "$STORE" rev-list --count $ref)
[ "$n" -eq 4 ] || { failures=$((failures + 1)); echo "FAIL git rev-list counts $n commits, wanted 4"; }
trailers=$(git --git-dir "$STORE" log -1 --format='%(trailers)' $ref)
for key in Event Actor From To Rule-set; do
  contains "$trailers" "^$key: " "trailer $key"
done
contains "$(git --git-dir "$STORE" log -1 --format='%an %ad' --date=short $ref)" \
  "fin-budget 2021-04-01" "author is the actor, date the event's"
tree=$(git --git-dir "$STORE" ls-tree -r --name-only $ref)
for f in event.msgpack state.msgpack rules/workflow.toml rules/definition.toml rules/library.lua \
         rules/plugins/r2_ex_ante.lua rules/plugins/r3_targets.lua; do
  contains "$tree" "^$f\$" "commit tree has $f"
done
r1=$(git --git-dir "$STORE" rev-parse "$ref~3:rules")
r2=$(git --git-dir "$STORE" rev-parse "$ref:rules")
[ "$r1" = "$r2" ] || { failures=$((failures + 1)); echo "FAIL rules subtree not shared"; }
git --git-dir "$STORE" show "$ref:rules/plugins/r2_ex_ante.lua" | cmp -s - plugins/r2_ex_ante.lua ||
  { failures=$((failures + 1)); echo "FAIL stored plugin differs from the file"; }

# The seal lists the last head of every project its batch advanced.
heads=$(git --git-dir "$STORE" show refs/jx/seal:heads)
contains "$heads" "^$(git --git-dir "$STORE" rev-parse $ref) P-UNDER\$" "seal lists the head"
# R-6: the self-evaluation is scored by the national rule, the grade
# checked against it.
expect 0 "the year closes" -- jx do P-UNDER close --as edu-dept --at 2021-12-31
expect 2 "a self-evaluation without data" -- jx do P-UNDER self_evaluate --as edu-school-1 --at 2022-02-01
contains "$ERR" "refused by R-6" "R-6 named"
EVAL='self_evaluation={execution={allocated=4999999, spent=4999999}, output=[{indicator="books", comparator=">=", target=40000, actual=40000}], outcome=[{indicator="readers", comparator=">=", target=1000, actual=800}], satisfaction=[{indicator="satisfied", comparator=">=", target=90, actual=90}]}'
expect 0 "self-evaluation" -- jx do P-UNDER self_evaluate --as edu-school-1 --at 2022-02-01 --set "$EVAL"
expect 0 "its facts" -- jx show P-UNDER --json
contains "$OUT" '"self_score": 94' "10 + 50 + 30 x 0.8 + 10 = 94"
contains "$OUT" '"self_grade_zh": "优"' "94 is excellent"
expect 2 "a grade that is not the score's band" -- jx do P-UNDER grade --as edu-dept --at 2022-03-01 --set grade=fair
contains "$ERR" "refused by R-6" "grade refusal names R-6"
expect 0 "the band's grade" -- jx do P-UNDER grade --as edu-dept --at 2022-03-01 --set grade=excellent
# R-7: the grade decides next year's funding.
expect 0 "archive applies the results" -- jx do P-UNDER archive --as fin-perf --at 2022-04-01
contains "$(jx show P-UNDER --json)" '"next_year_action": "priority"' "excellent gets priority"
contains "$(jx show P-UNDER --json)" '"evaluation": "department"' "a department's grade is a department evaluation"
expect 0 "the coverage report counts it" -- jx report coverage --csv
contains "$OUT" '^general,[0-9]+,' "a general-budget row"

# R-3's in-depth review (重点审核) of a project of 10,000,000 yuan or more.
project key.toml P-KEY 10000000 expand 'ex_ante_report = "r.pdf"' "$TARGETS"
expect 0 "a 10,000,000 project" -- jx submit key.toml
expect 0 "department approves it" -- jx do P-KEY dept_approve --as edu-dept
# R-2: the performance section reviews the ex-ante assessment first.
expect 2 "a dimension over 20" -- jx do P-KEY ex_ante_review --as fin-perf --set 'ex_ante_scores={necessity=21, economy=16, targets=16, feasibility=16, compliance=16}'
contains "$ERR" "refused by R-2" "review refusal names R-2"
expect 0 "a review totalling 79" -- jx do P-KEY ex_ante_review --as fin-perf --set 'ex_ante_scores={necessity=15, economy=16, targets=16, feasibility=16, compliance=16}'
expect 2 "79 is revise: no approval" -- jx do P-KEY finance_approve --as fin-business
contains "$ERR" "reason: .*revise" "names the conclusion"
expect 0 "a review totalling 80" -- jx do P-KEY ex_ante_review --as fin-perf --set 'ex_ante_scores={necessity=16, economy=16, targets=16, feasibility=16, compliance=16}'
expect 2 "finance may not approve before the key review" -- jx do P-KEY finance_approve --as fin-business
contains "$ERR" "refused by R-3" "key review names R-3"
contains "$ERR" "remedy: the performance section sends key_review" "and what to do"
expect 0 "the performance section reviews" -- jx do P-KEY key_review --as fin-perf --set 'review_note="targets are sound"'
expect 0 "then finance approves" -- jx do P-KEY finance_approve --as fin-business
contains "$(jx show P-KEY --json)" '"key_reviewed": true' "the review is a recorded fact"

# Refs of other tools survive the writer's packed-refs rewrites.
git --git-dir "$STORE" update-ref refs/tags/audit-2021 "$ref"
git --git-dir "$STORE" pack-refs --all
expect 0 "a write after git pack-refs" -- jx do P-REPORT dept_approve --as edu-dept
expect 0 "another tool's ref is kept" -- git --git-dir "$STORE" rev-parse refs/tags/audit-2021
store_intact "after the walkthrough"
finish
