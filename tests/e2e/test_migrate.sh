# Definition versions: a project runs under the version it started with,
# read from its commits' rule set; jx migrate moves chosen projects, with
# a dry run and a commit each.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
for id in M-1 M-2 M-3; do project "$id.toml" "$id" 1000 new "$TARGETS"; done
cat >v1.jx <<'JX'
at 2021-03-01
submit M-1.toml
submit M-2.toml
submit M-3.toml
do M-2 dept_approve --as edu-dept
JX
expect 0 "three projects under version 1" -- jx run v1.jx
contains "$(jx show M-1 --json)" '"definition_version": 1' "the version is recorded"

# Version 2 renames dept_review to department_review.
cp workflows/budget.toml workflows/v1.toml
sed -i 's/^version = 1 /version = 2 /; s/\bdept_review\b/department_review/g' workflows/budget.toml
sed -i 's/"dept_review", "finance_review", "returned"/"department_review", "finance_review", "returned"/' workflow.toml
# M-3 stays under version 1: its state is version 1's, and so are its
# events, while version 2 knows no dept_review.
expect 0 "the inbox judges each project by its version" -- jx inbox --as edu-dept
contains "$OUT" "M-3 +dept_review +dept_approve" "version 1's task"
expect 0 "a version-1 project goes on under version 1" -- jx do M-3 dept_approve --as edu-dept --at 2021-03-02
contains "$OUT" "M-3: dept_review -> finance_review" "version 1's transition"
expect 0 "a new project starts under version 2" -- sh -c 'sed "s/M-3/M-4/" M-3.toml >M-4.toml && "$0" submit M-4.toml --at 2021-03-02' "$JX"
contains "$OUT" "M-4: draft -> department_review" "version 2's state"
contains "$(jx show M-4 --json)" '"definition_version": 2' "recorded"
expect 1 "a state the new version lacks must be mapped" -- jx migrate M-1 --as fin-budget --at 2021-03-02 --dry-run
contains "$ERR" "in state dept_review, which version 2 of workflow budget-project does not have: map it \(--map dept_review=NEW\)" "named"
expect 0 "the dry run" -- jx migrate M-1,M-2 --as fin-budget --at 2021-03-02 --dry-run --map dept_review=department_review
contains "$OUT" "M-1: dept_review -> department_review, version 1 -> 2 \(dry run: nothing written\)" "M-1"
contains "$OUT" "M-2: finance_review -> finance_review, version 1 -> 2" "M-2 keeps its state"
contains "$(jx show M-1 --json)" '"definition_version": 1' "nothing written"
expect 2 "only admin roles migrate" -- jx migrate M-1 --as edu-dept --at 2021-03-02 --map dept_review=department_review
contains "$ERR" "admin_roles" "named"
expect 0 "migrate two of three" -- jx migrate M-1,M-2 --as fin-budget --at 2021-03-02 --map dept_review=department_review
contains "$OUT" "M-1: dept_review -> department_review" "moved"
msg=$(git --git-dir "$STORE" log -1 --format='%an%n%B' refs/jx/projects/M-1)
contains "$msg" "^fin-budget" "by its real actor"
contains "$msg" "Event: migrate" "an event of its own"
contains "$msg" "Definition: budget-project 1 -> 2" "the trailer"
expect 0 "M-1 goes on under version 2" -- jx do M-1 dept_approve --as edu-dept --at 2021-03-03
contains "$OUT" "M-1: department_review -> finance_review" "the new definition decides"
expect 2 "M-1 is version 2's now: dept_review's event is gone" -- jx do M-1 withdraw --as edu-school-1 --at 2021-03-03
contains "$(jx show M-3 --json)" '"definition_version": 1' "M-3 was not moved"
expect 0 "migrating again does nothing" -- jx migrate M-1 --as fin-budget --at 2021-03-04
contains "$OUT" "M-1: runs under version 2 already" "said"
expect 3 "an unknown project" -- jx migrate M-9 --as fin-budget --at 2021-03-04
expect 1 "a bad map" -- jx migrate M-3 --as fin-budget --at 2021-03-04 --map dept_review
store_intact "after the migrations"
finish
