# The README's first command ends in scripts/demo: the bureau's year, 2021.
# It must run the year through the calendar, refuse what the rules refuse
# (by name), and end with reports that say what the rules say for its
# data; the figures below are worked out by hand from the data in
# workflows/demo/2021/.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
cp -r "$SRC/scripts" "$T/"
out=$(JX="$JX" sh scripts/demo 2>&1)
contains "$out" "run workflows/demo/2021/year.jx: [0-9]+ events made, 11 refused by rules, 0 failed" "the year runs, eleven refusals"

# The refusals, each naming its rule.
contains "$out" "HL2021-SPT-DEPT submit: refused by R-1" "no performance officer: R-1"
contains "$out" "HL2021-EDU-009 submit: refused by R-2" "5,000,000 exactly, no assessment: R-2"
contains "$out" "HL2021-HLT-008 submit: refused by R-3" "no targets: R-3"
contains "$out" "HL2021-EDU-001 dept_approve: refused by workflow" "another department's project"
contains "$out" "HL2021-EDU-001 finance_approve: refused by R-2" "assessment reviewed 'revise'"
contains "$out" "HL2021-HLT-003 finance_approve: refused by R-3" "no key review (重点审核)"
contains "$out" "HL2021-EDU-007 resume: refused by R-4" "red warning, no corrective note"
contains "$out" "HL2021-EDU-002 grade: refused by R-6" "grade against the score"
contains "$out" "HL2021-HLT-001 grade: refused by R-6" "a third party tied to health"
contains "$out" "HL2021-EDU-001 finance_approve: refused by workflow" "a signer signs once"
contains "$out" "reason: actor fin-business has signed this approval already" "why"

# Approvals: the return to the department and the countersign (会签).
expect 0 "EDU-002's history" -- "$JX" --store demo.git log HL2021-EDU-002
contains "$OUT" "return: HL2021-EDU-002 finance_review -> dept_review" "returned to the previous step"
contains "$OUT" 'Set return_to = "previous"' "where to, in the history"
expect 0 "EDU-001's history" -- "$JX" --store demo.git log HL2021-EDU-001
contains "$OUT" "Approval: 1 of 2 signed \(all\)" "the business section's signature"
contains "$OUT" "finance_approve: HL2021-EDU-001 finance_review -> approved" "the performance section completes it"
contains "$OUT" "Approval: 2 of 2 signed \(all\)" "both signatures"

expect 0 "the store" -- "$JX" --store demo.git list --json
contains "$OUT" '"HL2021-EDU-002"' "4,999,999 went through"
expect 3 "the refused 5,000,000 project was never created" -- "$JX" --store demo.git show HL2021-EDU-009

# R-0: general budget, fiscal evaluation by funds.
contains "$out" "general +31 +110,119,999 +100.0 % +100.0 %" "31 general projects, their funds"
contains "$out" "2 of 2 departments \(education, health\); met" "department-wide pilots"
# R-5 by hand: HL2021-EDU-005, 5,840,000 yuan, 70 % spent at 30 September,
# no later report: 5,840,000 x 334/365 - 4,088,000 = 1,256,000.
contains "$out" "HL2021-EDU-005 +archived +1,256,000 +slower_than_schedule" "slower than schedule"
# HL2021-EDU-007, 1,095,000 suspended, 15 % spent: 930,750 unspent,
# recovered and funded next year (must_continue).
contains "$out" "HL2021-EDU-007 +archived +930,750 +uncorrected_suspended \(2021-11-30\) +930,750 +funded from next year's budget" "suspended: all unspent"
contains "$out" "all departments +\(total\) +13,804,500 +13,804,500 +2 projects, 4,653,750 yuan" "the year's recovery"
# R-10: agriculture never sent the July report, environment the December
# one, culture was late (23 July).
contains "$out" "agriculture +HL2021-AGR-DEPT +missing +2021-12-15 on time +h1" "agriculture owes h1"
contains "$out" "environment +HL2021-ENV-DEPT +2021-07-16 on time +missing +h2" "environment owes h2"
contains "$out" "culture +HL2021-CUL-DEPT +2021-07-23 late" "culture late"
# R-9: health first, culture last.
contains "$out" "1 +health .*preference in budget arrangement" "top-ranked"
contains "$out" "6 +culture .*fund scale reduced" "bottom-ranked"
# R-6: hl-university's average quality 65 is below 70.
contains "$out" "hl-university .* 65 +中 +no \(below 70\)" "third party not to be engaged"

# R-6 by hand: HL2021-EDU-001 all met but outcome 0.9: 10 + 50 + 27 + 10.
expect 0 "EDU-001" -- "$JX" --store demo.git show HL2021-EDU-001 --json
contains "$OUT" '"self_score": 97' "97"
contains "$OUT" '"next_year_action": "priority"' "excellent: priority (R-7)"
# HL2021-HLT-003, a services pilot (10/40/20/30): 9.5 + 36 + 16 + 27.
expect 0 "HLT-003" -- "$JX" --store demo.git show HL2021-HLT-003 --json
contains "$OUT" '"self_score": 88.5' "pilot weights"
# HL2021-EDU-004: 87.5, spot-checked at 75.5 (off by more than 5):
# graded by the spot check's band, fair (中).
expect 0 "EDU-004" -- "$JX" --store demo.git show HL2021-EDU-004 --json
contains "$OUT" '"passed": false' "the spot check failed"
contains "$OUT" '"grade": "fair"' "graded by the spot check"
contains "$OUT" '"next_year_action": "cut"' "fair: cut (R-7)"
# HL2021-CUL-005, duplicated: merged whatever its grade.
expect 0 "CUL-005" -- "$JX" --store demo.git show HL2021-CUL-005 --json
contains "$OUT" '"next_year_action": "merge"' "duplicated: merge"
# R-4: HL2021-HLT-002's yellow warning, unanswered 15 days, turned red;
# HL2021-HLT-005's half-year report never came.
contains "$("$JX" --store demo.git log HL2021-HLT-002)" "monitoring_followup" "the follow-up is in the history"
expect 0 "HLT-005" -- "$JX" --store demo.git show HL2021-HLT-005 --json
contains "$OUT" '"monitoring_due": "2021-09-30"' "the last report due"

contains "$out" "2021-12-05 fin-budget +recover +suspended -> recovered" "plain git shows the history"
contains "$out" "fsck: clean" "git fsck is clean"
# The audit of the year: every chain verifies and every decision replays
# identically under the rule set stored in its commit.
expect 0 "jx audit verify" -- "$JX" --store demo.git audit verify
contains "$OUT" "seals: ok" "verified"
expect 0 "jx audit replay of the whole year" -- "$JX" --store demo.git audit replay
contains "$OUT" "replayed [0-9]+ decisions: ([0-9]+) identical, 0 differ" "every decision identical"
# What-if: Donghai's rules (threshold 3,000,000; officers of two
# departments only) over Hailin's year.
before=$(git --git-dir demo.git rev-list --all | wc -l)
expect 0 "jx simulate --rules donghai" -- "$JX" --store demo.git simulate --rules scripts/variations/donghai
contains "$OUT" "R-2 would have refused [0-9]+" "more ex-ante assessments needed"
contains "$OUT" "refused by R-2: a [a-z]+ project of [0-9,]+ yuan needs an ex-ante performance assessment report \(threshold 3,000,000 yuan" "which and why"
contains "$OUT" "Nothing was written" "said"
contains "$(git --git-dir demo.git rev-list --all | wc -l)" "^ *$before$" "and nothing was"
expect 0 "the demo store passes git fsck" -- git --git-dir demo.git fsck --strict
expect 0 "the report as CSV" -- "$JX" --store demo.git report coverage --csv
contains "$OUT" '^budget,projects,' "CSV header"
contains "$OUT" 'general,31,"110,119,999"' "CSV quotes a cell with a comma"
expect 1 "an unknown report" -- "$JX" --store demo.git report nope
contains "$ERR" "no report \"nope\"" "names it"
finish
