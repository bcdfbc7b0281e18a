# jx run: a script of writes in one process, checked whole before anything
# is written; submit of a file of several [[project]] tables.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init

mkdir scripts
cat >scripts/three.toml <<'TOML'
[[project]]
id = "R-A"
title = "first"
department = "education"
unit = "edu-school-1"
budget_type = "general"
kind = "new"
amount = 100
year = 2021
targets = [{ level1 = "output", level2 = "quantity", indicator = "schools renovated", comparator = ">=", value = 12, unit = "schools" },
           { level1 = "outcome", level2 = "social", indicator = "pupils in renovated schools", comparator = ">=", value = 3000, unit = "pupils" }]

[[project]]
id = "R-B"
title = "second, without targets"
department = "education"
unit = "edu-school-1"
budget_type = "general"
kind = "new"
amount = 200
year = 2021

[[project]]
id = "R-C"
title = "third"
department = "education"
unit = "edu-school-1"
budget_type = "state_capital"
kind = "new"
amount = 300
year = 2021
targets = [{ level1 = "output", level2 = "quantity", indicator = "enterprises audited", comparator = ">=", value = 3, unit = "enterprises" },
           { level1 = "outcome", level2 = "economic", indicator = "state assets preserved", comparator = ">=", value = 100, unit = "%" }]
TOML

# A mistake in one project of a file submits none of them.
sed 's/amount = 200/amount = "200"/' scripts/three.toml >bad.toml
expect 1 "a bad field in the second project" -- jx submit bad.toml --at 2021-03-01
contains "$ERR" "bad.toml:20:10: field \"amount\" must be an integer" "the message points at the line"
expect 0 "nothing was submitted" -- jx list --json
contains "$OUT" '^\[\]$' "no project"

cat >scripts/year.jx <<'JX'
# The dates of lines without --at.
at 2021-03-01
submit three.toml            # relative to the script
do R-A dept_approve --as edu-dept --at 2021-03-02
do R-A finance_approve --as fin-business --at 2021-03-03 \
  --set 'review_note="fine"'
at 2021-04-01
do R-A release --as fin-budget
do R-C dept_approve --as hlt-dept   # another department: refused
tick --to 2021-07-01
do R-A relase --as fin-budget
JX
expect 1 "a misspelt event on the last line" -- jx run scripts/year.jx
contains "$ERR" "year.jx:11: workflow budget-project has no event \"relase\"" "the line is named"
expect 0 "and nothing ran" -- jx list --json
contains "$OUT" '^\[\]$' "no project after a refused script"
sed -i '$d' scripts/year.jx
echo 'do R-A close --as edu-detp' >>scripts/year.jx
expect 1 "a misspelt actor" -- jx run scripts/year.jx
contains "$ERR" "year.jx:11: no actor \"edu-detp\"" "the actor is named"
sed -i '$d' scripts/year.jx

expect 2 "the script runs; one line is refused" -- jx run scripts/year.jx
contains "$OUT" "R-A: draft -> dept_review" "R-A submitted"
contains "$OUT" "R-C: draft -> dept_review" "R-C submitted"
contains "$ERR" "year.jx:3: R-B submit: refused by R-3" "R-3 refuses R-B, naming the line"
contains "$ERR" "year.jx:9: R-C dept_approve: refused by workflow" "scope refusal"
contains "$OUT" "2021-06-30 h1_checkpoint +R-A: checkpoint" "the tick ran"
contains "$OUT" "run scripts/year.jx: 6 events made, 2 refused by rules, 0 failed" "summary"
contains "$(git --git-dir "$STORE" log -1 --format=%ad --date=short refs/jx/projects/R-A~1)" \
  "2021-04-01" "release is dated by the at line"
store_intact "after the run"

# Every mistake a line can carry is found before anything runs.
nothing_written() {
  expect 0 "$1: nothing written" -- sh -c 'git --git-dir "$0" rev-list --all | wc -l' "$STORE"
  contains "$OUT" "^ *$commits\$" "$1: the store has what it had"
}
commits=$(git --git-dir "$STORE" rev-list --all | wc -l)
bad_line() { # bad_line NAME PATTERN LINE...: a script ending in LINE fails at it
  name=$1 pattern=$2
  shift 2
  { echo "at 2021-12-01"; echo "do R-A close --as edu-dept"; printf '%s\n' "$@"; } >late.jx
  expect 1 "$name" -- jx run late.jx
  contains "$ERR" "late.jx:3: $pattern" "$name: the line and the mistake"
  nothing_written "$name"
}
bad_line "a missing submit file" "nosuch.toml: cannot read" "submit nosuch.toml"
sed 's/^amount = 300$/amout = 300/' scripts/three.toml >bad3.toml
bad_line "a bad field in a submitted file" "bad3.toml:[0-9]+:[0-9]+: field \"amout\"" "submit bad3.toml"
bad_line "a field the event does not set" "close does not set field \"amount\"" "do R-A close --as edu-dept --set amount=1"
bad_line "a bad date" "" "do R-A close --as edu-dept --at 2021-02-31"
bad_line "tick without --to" "tick: --to DATE is required" "tick"
{ echo "do R-A close --as edu-dept"; } >undated.jx
expect 1 "an undated event" -- jx run undated.jx
contains "$ERR" "undated.jx:1: do has no date: give --at DATE or an .at DATE. line" "never now"

expect 1 "reads do not belong in a script" -- sh -c 'echo "show R-A" >r.jx && "$JX" run r.jx'
contains "$ERR" "r.jx:1: a script holds writes" "reads refused"
expect 1 "an unterminated quote" -- sh -c "printf 'do R-A close --as edu-dept --set \"x=1\n' >q.jx && \"\$JX\" run q.jx"
contains "$ERR" "q.jx:1:[0-9]+: unterminated \" quote" "the quote is named"
expect 1 "no --store inside a script" -- sh -c 'echo "tick --to 2021-12-31 --store x" >s.jx && "$JX" run s.jx'
contains "$ERR" "s.jx:1: -c, --store" "global options named"
expect 1 "a bad date" -- sh -c 'echo "at 2021-02-30" >d.jx && "$JX" run d.jx'
contains "$ERR" "d.jx:1: " "the line is named"
expect 1 "a missing script" -- jx run nosuch.jx
contains "$ERR" "nosuch.jx: cannot read" "named"
printf 'say -- the second half --\ntick --to 2021-10-01\n' >quiet.jx
expect 0 "--quiet: say and the summary only" -- jx run quiet.jx --quiet
contains "$OUT" "^-- the second half --" "say prints its text"
contains "$OUT" "run quiet.jx: 2 events made" "the summary (follow-up and checkpoint)"
checks=$((checks + 1))
case $OUT in *checkpoint*) failures=$((failures + 1)); echo "FAIL quiet printed an event";; esac
expect 1 "--quiet is run's" -- jx tick --to 2021-10-02 --quiet
contains "$ERR" "option --quiet does not apply" "named"
expect 0 "json summary" -- sh -c 'echo "tick --to 2021-07-02" >j.jx && "$JX" run j.jx --json'
contains "$OUT" '^\{"failed":0,"made":0,"refused":0,"script":"j.jx"\}$' "json summary, one document per line"
finish
