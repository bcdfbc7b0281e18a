# The README's first command ends in scripts/demo: it must show the rules
# refusing what they must, by name, and leave a clean store.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
cp -r "$SRC/scripts" "$T/"
out=$(JX="$JX" sh scripts/demo 2>&1)
contains "$out" "HL2021-EDU-001 submit: refused by R-2" "5,000,000 without a report: R-2"
contains "$out" "HL2021-EDU-002: draft -> dept_review" "4,999,999 accepted"
contains "$out" "HL2021-HLT-001 submit: refused by R-3" "no targets: R-3"
contains "$out" "HL2021-CUL-001 submit: refused by R-1" "no performance officer: R-1"
contains "$out" "HL2021-HLT-002: approved -> executing" "one project through approval"
contains "$out" "Rule-set: [0-9a-f]{40}" "the git history is printed"
contains "$out" "Coverage of targets and evaluation \(R-0\)" "the coverage report"
contains "$out" "government_fund +1 +8,000,000" "one fund-budget project of 8,000,000"
expect 0 "the report as JSON" -- "$JX" --store demo.git report coverage --json
contains "$OUT" '"columns"' "JSON has the columns"
expect 0 "the report as CSV" -- "$JX" --store demo.git report coverage --csv
contains "$OUT" '^budget,projects,' "CSV header"
contains "$OUT" 'general,1,"4,999,999"' "CSV quotes a cell with a comma"
contains "$out" "jx report disclosure" "the disclosure report runs"
contains "$out" "HL2021-HLT-002 +health +project performance targets" "the approved project's targets are to be published"
contains "$out" "jx report ranking" "the ranking report runs"
expect 1 "an unknown report" -- "$JX" --store demo.git report nope
contains "$ERR" "no report \"nope\"" "names it"
contains "$out" "fsck: clean" "git fsck is clean"
expect 0 "the demo store passes git fsck" -- git --git-dir demo.git fsck --strict
finish
