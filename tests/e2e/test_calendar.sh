# jx tick turns the calendar's dates into events, committed as actor
# calendar, once per project and timer.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
for id in P-A P-B P-LATE; do
  project "$id.toml" "$id" 100 new "$TARGETS"
  expect 0 "submit $id" -- jx submit "$id.toml" --at 2021-03-01
done
for id in P-A P-B; do
  expect 0 "approve $id" -- jx do $id dept_approve --as edu-dept --at 2021-03-02
  expect 0 "approve $id" -- jx do $id finance_approve --as fin-business --at 2021-03-03
done
expect 0 "release P-A" -- jx do P-A release --as fin-budget --at 2021-04-01

expect 1 "tick --as an unknown actor" -- jx tick --to 2021-06-29 --as nobody
contains "$ERR" 'unknown actor "nobody"' "named"
expect 2 "tick --as a department" -- jx tick --to 2021-06-29 --as edu-dept
contains "$ERR" "moving the calendar \(tick\) needs one of \[workflow\] admin_roles" "the rule named"
expect 0 "nothing is due before 30 June" -- jx tick --to 2021-06-29 --as fin-budget
contains "$OUT" "0 events made" "no events yet"
expect 0 "the half-year checkpoint" -- jx tick --to 2021-07-01
contains "$OUT" "2021-06-30 h1_checkpoint +P-A: checkpoint executing -> executing" "P-A checked"
contains "$OUT" "1 events made" "only the executing project"
expect 0 "ticking again does nothing new" -- jx tick --to 2021-07-01
contains "$OUT" "0 events made" "idempotent"
ref=refs/jx/projects/P-A
contains "$(git --git-dir "$STORE" log -1 --format='%an %ad%n%(trailers)' --date=short $ref)" \
  "calendar 2021-06-30" "the calendar is the author, on the timer's date"
contains "$(jx show P-A --json)" '"timers": \[' "the fired timer is recorded"

# R-4: at the checkpoint the department reports; spending behind the time
# progress raises a warning, and a red one holds the project.
expect 2 "a report without data" -- jx do P-A report_monitoring --as edu-dept --at 2021-06-30
contains "$ERR" "refused by R-4" "R-4 named"
expect 0 "half the year gone, a tenth spent" -- jx do P-A report_monitoring --as edu-dept --at 2021-06-30 --set 'monitoring={allocated=100, spent=10, indicators=[{indicator="schools renovated", target=12, actual_to_date=6}]}'
expect 0 "the warning" -- jx show P-A --json
contains "$OUT" '"execution_warning": "red"' "0.50 - 0.10 is over the red gap"
expect 0 "the department flags it" -- jx do P-A flag --as edu-dept --at 2021-07-01
expect 2 "no resume while red without a note" -- jx do P-A resume --as edu-dept --at 2021-07-02
contains "$ERR" "refused by R-4" "resume refusal names R-4"
expect 0 "resume with a corrective note" -- jx do P-A resume --as edu-dept --at 2021-07-02 --set 'monitoring_note="procurement signed"'

# P-B is released after 30 September: the third-quarter checkpoint is not
# for a project that has moved on past its date.
expect 0 "release P-B late" -- jx do P-B release --as fin-budget --at 2021-10-15
expect 0 "to just before the year end" -- jx tick --to 2021-12-30
contains "$OUT" "2021-09-30 q3_checkpoint +P-A" "q3 fired for P-A"
if printf '%s' "$OUT" | grep -q "q3_checkpoint +P-B"; then
  failures=$((failures + 1)); echo "FAIL a timer fired for a project past its date"
fi
# R-5: on 30 November what is behind schedule is to be recovered.
contains "$OUT" "2021-11-30 recovery_check +P-B" "the recovery check reaches P-B"
expect 0 "the amount" -- jx show P-B --json
contains "$OUT" '"recovery_reason": "no_monitoring_report"' "unreported spending counts as none"
contains "$OUT" '"recovery_amount": 91' "floor(100 x 334/365) = 91"
expect 2 "recovering more than computed needs a note" -- jx do P-B recover --as fin-budget --at 2021-12-01 --set recovered_amount=100
contains "$ERR" "refused by R-5" "R-5 named"
expect 0 "the computed amount" -- jx do P-B recover --as fin-budget --at 2021-12-01 --set recovered_amount=91
expect 0 "the year end, in JSON" -- jx tick --to 2021-12-31 --json
contains "$OUT" '^\[' "JSON array"
contains "$OUT" '"timer": "year_end"' "31 December closes the year"
contains "$(jx show P-B --json)" '"status": "closed"' "evaluation season: P-B awaits evaluation"
expect 1 "--to is required" -- jx tick
expect 1 "a bad date" -- jx tick --to 2021-02-30
sed 's/^date = "06-30"/date = "02-30"/' workflow.toml >badcal.toml
expect 1 "a timer on a day that does not exist" -- jx -c badcal.toml tick --to 2021-12-31
contains "$ERR" "badcal.toml:[0-9]+:[0-9]+: .*02-30" "names the date and its place"
# Timers that could never work are configuration errors, found at start.
sed 's/^states = \["executing", "flagged", "suspended", "reduced"\]$/states = ["executng"]/' workflow.toml >badstate.toml
expect 1 "a timer for a state that does not exist" -- jx -c badstate.toml tick --to 2021-12-31
contains "$ERR" "timer h1_checkpoint: no state \"executng\"" "names timer and state"
sed '0,/^event = "checkpoint"$/s//event = "chekpoint"/' workflow.toml >badevent.toml
expect 1 "a timer sending an unknown event" -- jx -c badevent.toml tick --to 2021-12-31
contains "$ERR" "event chekpoint is not allowed" "names the event"
sed 's/^name = "q3_checkpoint" /name = "h1_checkpoint" /' workflow.toml >dupname.toml
expect 1 "two timers with one name" -- jx -c dupname.toml tick --to 2021-12-31
contains "$ERR" "two timers are named h1_checkpoint" "names the duplicate"
store_intact "after the calendar"
finish
