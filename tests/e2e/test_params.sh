# Every rule's numbers are workflow.toml parameters: for each rule, the
# same events decided under the shipped value and under a changed one give
# different decisions, with no change to C or Lua.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
cp workflow.toml shipped.toml

fresh() { # fresh [SED-EXPRESSION]: the shipped deployment, changed, new store
  cp shipped.toml workflow.toml
  [ $# -eq 0 ] || sed -i "$1" workflow.toml
  rm -rf "$STORE"
  jx init >/dev/null
}
# 3,650,000 yuan: 365 x 10,000, so the recovery amounts are whole yuan.
project p.toml P-1 3650000 new "$TARGETS"
project q.toml Q-1 3650000 new "$TARGETS"
sed -i 's/"education"/"health"/; s/edu-school-1/hlt-clinic-1/' q.toml
cat >approve.jx <<'JX'
at 2021-01-15
submit p.toml
do P-1 dept_approve --as edu-dept
do P-1 finance_approve --as fin-business
do P-1 release --as fin-budget --at 2021-03-01
JX
cat >h1.jx <<'JX'
tick --to 2021-06-30
do P-1 report_monitoring --as edu-dept --at 2021-06-30 \
  --set 'monitoring={allocated=3650000, spent=1460000, indicators=[{indicator="schools renovated", target=12, actual_to_date=6}]}'
JX
cat >year.jx <<'JX'
tick --to 2021-09-30
do P-1 report_monitoring --as edu-dept --at 2021-09-30 \
  --set 'monitoring={allocated=3650000, spent=2555000, indicators=[{indicator="schools renovated", target=12, actual_to_date=9}]}'
tick --to 2021-11-30
do P-1 recover --as fin-budget --at 2021-12-01 --set recovered_amount=785000
do P-1 close --as edu-dept --at 2021-12-31
# 8 + 35 + 18 + 8 = 69: fair under the national bands
do P-1 self_evaluate --as edu-school-1 --at 2022-02-28 \
  --set 'self_evaluation={execution={allocated=100, spent=80}, output=[{indicator="a", comparator=">=", target=100, actual=80}, {indicator="b", comparator=">=", target=100, actual=60}], outcome=[{indicator="c", comparator=">=", target=100, actual=60}], satisfaction=[{indicator="d", comparator=">=", target=100, actual=80}]}'
do P-1 grade --as edu-dept --at 2022-04-01 --set grade=fair
do P-1 archive --as fin-perf --at 2022-05-01
JX
fact() { jx show P-1 --json | grep -E "\"$1\": " | head -1; }

# R-1: the officers are a parameter.
fresh
expect 0 "R-1 shipped: education has an officer" -- jx submit p.toml --at 2021-01-15
fresh '/^officers.education = /d'
expect 2 "R-1 without education's officer" -- jx submit p.toml --at 2021-01-15
contains "$ERR" "refused by R-1" "R-1 named"

# R-3: the amount of the in-depth review (重点审核).
fresh
expect 0 "R-3 shipped: 3,650,000 needs no key review" -- jx run approve.jx
fresh 's/^key_review_amount = 10000000/key_review_amount = 3650000/'
expect 2 "R-3 at 3,650,000: the key review is needed" -- jx run approve.jx
contains "$ERR" "finance_approve: refused by R-3" "R-3 named"

# R-4, R-5, R-6, R-7 along one project's year.
fresh
expect 0 "the half-year under the shipped parameters" -- sh -c '"$JX" run approve.jx && "$JX" run h1.jx'
contains "$(fact monitoring_warning)" '"none"' "R-4: 40 % spent at 49.6 % is within the 0.10 gap"
expect 0 "the rest of the year" -- jx run year.jx
contains "$(fact recovery_amount)" ': 785000' "R-5: 3,650,000 x 334/365 - 2,555,000"
contains "$(fact next_year_amount)" ': 2920000' "R-7: fair cut by 20 %"
fresh 's/^yellow_gap = 0.10 /yellow_gap = 0.05 /'
expect 0 "R-4 with a 0.05 gap" -- sh -c '"$JX" run approve.jx && "$JX" run h1.jx'
contains "$(fact monitoring_warning)" '"yellow"' "R-4: a gap of 0.096 is above 0.05"
fresh 's/^tolerance = 0.0 /tolerance = 0.05 /'
expect 2 "R-5 with a 5 % tolerance: 785,000 is not the amount" -- sh -c '"$JX" run approve.jx && "$JX" run h1.jx && "$JX" run year.jx --quiet'
contains "$ERR" "recover: refused by R-5" "R-5 named"
contains "$(fact recovery_amount)" ': 602500' "R-5: 785,000 - 5 % of 3,650,000"
fresh 's/^bands = { excellent = 90, good = 80, fair = 60 }$/bands = { excellent = 90, good = 80, fair = 70 }/'
expect 2 "R-6 with fair from 70: 69 is poor" -- sh -c '"$JX" run approve.jx && "$JX" run h1.jx && "$JX" run year.jx --quiet'
contains "$ERR" "grade: refused by R-6" "R-6 named"
contains "$ERR" "score 69, which is poor" "the band moved"
fresh 's/^fair_cut = 0.2$/fair_cut = 0.5/'
expect 0 "R-7 with a 50 % cut" -- sh -c '"$JX" run approve.jx && "$JX" run h1.jx && "$JX" run year.jx --quiet'
contains "$(fact next_year_amount)" ': 1825000' "R-7: fair cut by half"

# R-0 and R-9: reports read their parameters too.
fresh
cat >two.jx <<'JX'
at 2021-01-15
submit p.toml
submit q.toml
do P-1 dept_approve --as edu-dept
do P-1 finance_approve --as fin-business
do Q-1 dept_approve --as hlt-dept
do Q-1 finance_approve --as fin-business
JX
expect 0 "two departments" -- jx run two.jx
expect 0 "R-9 shipped: one department preferred" -- jx report ranking --csv
contains "$(printf '%s' "$OUT" | grep -c 'preference in budget')" '^1$' "top_n = 1"
fresh 's/^top_n = 1 /top_n = 2 /; s/^bottom_n = 1 /bottom_n = 0 /'
expect 0 "two departments" -- jx run two.jx
expect 0 "R-9 with top_n = 2, bottom_n = 0" -- jx report ranking --csv
contains "$(printf '%s' "$OUT" | grep -c 'preference in budget')" '^2$' "top_n = 2"
fresh
expect 0 "the year" -- sh -c '"$JX" run approve.jx && "$JX" run year.jx --quiet && "$JX" submit q.toml --at 2021-01-15'
expect 0 "R-0 shipped: 1 of 2 graded by the department is 50 %" -- jx report coverage --csv
contains "$OUT" '^general,2,.*,met,not met' "department goal met at 20 %"
fresh 's/^goal = 0.20 /goal = 0.60 /'
expect 0 "the year" -- sh -c '"$JX" run approve.jx && "$JX" run year.jx --quiet && "$JX" submit q.toml --at 2021-01-15'
expect 0 "R-0 with a 60 % goal" -- jx report coverage --csv
contains "$OUT" '^general,2,.*,not met,not met' "department goal not met at 60 %"
finish
