# R-10: progress reports on the department-wide record, the calendar that
# marks missing ones, and jx report progress; the days are parameters.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
cat >depts.toml <<'TOML'
[[project]]
id = "D-EDU"
title = "Education Bureau, whole budget (部门整体)"
level = "department"
department = "education"
unit = "education"
budget_type = "general"
kind = "continue"
amount = 90000000
year = 2021
targets = [{ level1 = "output", level2 = "quantity", indicator = "projects with targets", comparator = ">=", value = 1.0, unit = "share" },
           { level1 = "outcome", level2 = "social", indicator = "projects rated good or better", comparator = ">=", value = 0.8, unit = "share" }]

[[project]]
id = "D-HLT"
title = "Health Bureau, whole budget (部门整体)"
level = "department"
department = "health"
unit = "health"
budget_type = "general"
kind = "continue"
amount = 70000000
year = 2021
targets = [{ level1 = "output", level2 = "quantity", indicator = "projects with targets", comparator = ">=", value = 1.0, unit = "share" },
           { level1 = "outcome", level2 = "social", indicator = "projects rated good or better", comparator = ">=", value = 0.8, unit = "share" }]
TOML
project unit.toml P-1 100 new "$TARGETS"
expect 2 "a department does not submit its unit's project" -- jx submit unit.toml --as edu-dept --at 2021-01-10
contains "$ERR" "P-1 submit: refused by R-10" "R-10 named"
contains "$ERR" "send submit as unit edu-school-1" "the remedy"
expect 2 "each department submits its own record" -- jx submit depts.toml --as edu-dept --at 2021-01-10
contains "$OUT" "D-EDU: draft -> dept_review" "education's accepted"
contains "$ERR" "D-HLT submit: refused by workflow" "health's is not education's"
sed -i 's/department = "education"/department = "health"/; s/D-EDU/D-HLT/; s/unit = "education"/unit = "health"/' unit.toml
sed -n '/id = "D-HLT"/,$p' depts.toml | sed '1i [[project]]' >hlt.toml
expect 0 "health submits its own" -- jx submit hlt.toml --as hlt-dept --at 2021-01-10
expect 2 "a project carries no progress report" -- jx do D-EDU progress_report --as edu-dept --at 2021-07-01
contains "$ERR" "refused by R-10" "no period: R-10"
expect 0 "education reports on 20 July" -- jx do D-EDU progress_report --as edu-dept --at 2021-07-20 --set 'progress={period="h1", summary="targets set for all 14 projects"}'
expect 0 "the calendar after the day" -- jx tick --to 2021-07-21
contains "$OUT" "progress_h1 +D-HLT: progress_due" "health's record is marked"
contains "$OUT" "progress_h1 +D-EDU: progress_due" "education's too (nothing missing)"
contains "$OUT" "2 events made" "only department-wide records"
expect 0 "the report" -- jx report progress --at 2021-07-21
contains "$OUT" "education +D-EDU +2021-07-20 on time +not yet due" "education on time"
contains "$OUT" "health +D-HLT +missing +not yet due +h1" "health owes h1"
expect 0 "json" -- jx report progress --at 2021-07-21 --json
contains "$OUT" '"1 of 2 departments owe a report."' "the note"
contains "$(jx show D-HLT --json)" '"missing": true' "the fact on the record"

# The bureau moves the July day to the 25th: a report on the 21st is on time.
sed -i 's/periods = { h1 = "07-20"/periods = { h1 = "07-25"/' workflow.toml
expect 0 "health reports late under the old day" -- jx do D-HLT progress_report --as hlt-dept --at 2021-07-21 --set 'progress={period="h1", summary="late"}'
expect 0 "the report" -- jx report progress --at 2021-07-26
contains "$OUT" "health +D-HLT +2021-07-21 on time" "on time under 07-25"
store_intact "after R-10"
finish
