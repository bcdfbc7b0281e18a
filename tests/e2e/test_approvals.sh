# Approvals with several signers (docs/APPROVALS.md): countersign (会签),
# N of M, chains (依次), returns (退回), withdraw (撤回) and take back (取回);
# every signature is a commit naming its actor.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
run() { jx run "$@"; }

# A 12,000,000 project: finance_approve needs the business section and
# the performance section (all, from 10,000,000).
project big.toml P-BIG 12000000 new \
  'ex_ante_report = "r.pdf"' 'ex_ante_conclusion = "support"' "$TARGETS"
project small.toml P-SM 1000000 new "$TARGETS"
cat >to_finance.jx <<'JX'
at 2021-02-01
submit big.toml
submit small.toml
do P-BIG dept_approve --as edu-dept
do P-SM dept_approve --as edu-dept
do P-BIG ex_ante_review --as fin-perf \
  --set 'ex_ante_scores={necessity=18, economy=17, targets=17, feasibility=16, compliance=17}'
do P-BIG key_review --as fin-perf
JX
expect 0 "to the finance review" -- jx run to_finance.jx

# Withdraw and take back while nobody has acted.
expect 2 "the unit cannot withdraw once the department acted" -- jx do P-SM withdraw --as edu-school-1 --at 2021-02-02
contains "$ERR" "event withdraw is not allowed in state finance_review" "the state says so"
expect 2 "another department cannot take it back" -- jx do P-SM take_back --as hlt-dept --at 2021-02-02
expect 0 "the department takes it back (取回)" -- jx do P-SM take_back --as edu-dept --at 2021-02-02
contains "$OUT" "P-SM: finance_review -> dept_review" "back with the department"
expect 0 "edu-dept's inbox" -- jx inbox --as edu-dept
contains "$OUT" "^2021-02-02 +- +P-SM +dept_review +dept_approve +- +test project" "its review, since it came back"
contains "$OUT" "1 waiting for edu-dept" "one item"
expect 0 "and passes it on again" -- jx do P-SM dept_approve --as edu-dept --at 2021-02-03

# 会签: the small project needs one signature, the big one two.
# The inboxes, oldest first.
expect 0 "fin-business's inbox" -- jx inbox --as fin-business
contains "$OUT" "P-BIG +finance_review +finance_approve +0 of 2 signed \(all\)" "the countersign, unsigned"
expect 0 "hlt-dept's inbox is empty" -- jx inbox --as hlt-dept
contains "$OUT" "0 waiting for hlt-dept" "another department's projects are not its"
expect 1 "an unknown actor" -- jx inbox --as nobody
contains "$ERR" "no actor \"nobody\"" "named"
expect 1 "--as is required" -- jx inbox
expect 0 "the small one: one signer" -- jx do P-SM finance_approve --as fin-business --at 2021-02-04
contains "$OUT" "P-SM: finance_review -> approved" "approved"
expect 0 "the big one: the business section signs" -- jx do P-BIG finance_approve --as fin-business --at 2021-02-04
contains "$OUT" "P-BIG: finance_review -> finance_review" "still in review"
contains "$(git --git-dir "$STORE" log -1 --format=%B refs/jx/projects/P-BIG)" "Approval: 1 of 2 signed \(all\)" "the trailer"
expect 0 "fin-business has signed: not in its inbox" -- jx inbox --as fin-business --json
contains "$(printf '%s' "$OUT" | tr -d ' \n')" '^\[\]$' "empty"
expect 0 "fin-perf's inbox has it" -- jx inbox --as fin-perf --json
contains "$OUT" '"approval": "1 of 2 signed \(all\)"' "its signature is awaited"
expect 2 "a signer signs once" -- jx do P-BIG finance_approve --as fin-business --at 2021-02-05
contains "$ERR" "has signed this approval already" "why"
expect 2 "take back after the next approver acted" -- jx do P-BIG take_back --as edu-dept --at 2021-02-05
contains "$ERR" "the next approver has acted already" "refused, with the reason"
# One of the signers returns it: the signatures are void, the department
# sees it again.
expect 2 "a return says where to" -- jx do P-BIG return --as fin-perf --at 2021-02-05
contains "$ERR" "return_to=STATE, one of returned, previous, dept_review" "the choices"
expect 2 "not to a state it does not list" -- jx do P-BIG return --as fin-perf --at 2021-02-05 --set return_to=draft
expect 0 "the performance section returns it to the previous step" -- jx do P-BIG return --as fin-perf --at 2021-02-05 --set return_to=previous --set 'review_note="targets too vague"'
contains "$OUT" "P-BIG: finance_review -> dept_review" "back to the department"
contains "$(jx show P-BIG --json | tr -d ' \n')" '"passed_by":\["fin-perf"\]' "passed on by who returned it, not by the partial signer"
expect 0 "the department approves again" -- jx do P-BIG dept_approve --as edu-dept --at 2021-02-06
expect 0 "the performance section signs first this time" -- jx do P-BIG finance_approve --as fin-perf --at 2021-02-07
contains "$OUT" "finance_review -> finance_review" "one of two: the old signature was void"
expect 0 "the business section completes it" -- jx do P-BIG finance_approve --as fin-business --at 2021-02-08
contains "$OUT" "P-BIG: finance_review -> approved" "approved by both"
log=$(git --git-dir "$STORE" log --format='%an %(trailers:key=Event,valueonly,separator=) %(trailers:key=Approval,valueonly,separator=)' refs/jx/projects/P-BIG)
contains "$log" "fin-business finance_approve 2 of 2 signed \(all\)" "the history names the completing actor"
contains "$log" "fin-perf finance_approve 1 of 2 signed \(all\)" "and the first signer"
contains "$log" "fin-perf return" "and the return"
contains "$(jx show P-BIG --json | tr -d ' \n')" '"passed_by":\["fin-perf","fin-business"\]' "who passed it on"

# Run-time changes (APPROVALS.md): delegate (委派), transfer (转办), add
# (加签) and remove (减签) a signer.
project ops.toml P-OPS 12000000 new \
  'ex_ante_report = "r.pdf"' 'ex_ante_conclusion = "support"' "$TARGETS"
project tr.toml P-TR 12000000 new \
  'ex_ante_report = "r.pdf"' 'ex_ante_conclusion = "support"' "$TARGETS"
cat >ops.jx <<'JX'
at 2021-04-01
submit ops.toml
submit tr.toml
do P-OPS dept_approve --as edu-dept
do P-TR dept_approve --as edu-dept
do P-OPS ex_ante_review --as fin-perf \
  --set 'ex_ante_scores={necessity=18, economy=17, targets=17, feasibility=16, compliance=17}'
do P-TR ex_ante_review --as fin-perf \
  --set 'ex_ante_scores={necessity=18, economy=17, targets=17, feasibility=16, compliance=17}'
do P-OPS key_review --as fin-perf
do P-TR key_review --as fin-perf
JX
expect 0 "two projects to finance" -- jx run ops.jx
# 委派: fin-business asks fin-business-2 to decide; the signature stays its own.
expect 2 "delegate needs an actor" -- jx do P-OPS delegate --as fin-business --at 2021-04-02
contains "$ERR" "delegate needs another actor" "named"
expect 1 "an unknown assignee" -- jx do P-OPS delegate --as fin-business --at 2021-04-02 --set assignee=nobody
expect 2 "only the approval's signers delegate" -- jx do P-OPS delegate --as fin-budget --at 2021-04-02 --set assignee=fin-perf-2
contains "$ERR" "refused by workflow" "refused"
expect 0 "delegate" -- jx do P-OPS delegate --as fin-business --at 2021-04-02 --set assignee=fin-business-2
expect 0 "the delegate's inbox" -- jx inbox --as fin-business-2
contains "$OUT" "P-OPS +finance_review +finance_approve" "it waits for the delegate"
expect 2 "the delegator waits for the decision" -- jx do P-OPS finance_approve --as fin-business --at 2021-04-03
contains "$ERR" "delegated \(委派\) to fin-business-2, whose decision comes first" "why"
expect 0 "the delegate decides" -- jx do P-OPS finance_approve --as fin-business-2 --at 2021-04-03
contains "$OUT" "P-OPS: finance_review -> finance_review" "not signed yet: back to the delegator"
contains "$(git --git-dir "$STORE" log -1 --format=%B refs/jx/projects/P-OPS)" "On-Behalf-Of: fin-business \(delegated, 委派\)" "the history says for whom"
expect 0 "the delegator signs" -- jx do P-OPS finance_approve --as fin-business --at 2021-04-04
msg=$(git --git-dir "$STORE" log -1 --format=%B refs/jx/projects/P-OPS)
contains "$msg" "Actor: fin-business" "the real actor"
contains "$msg" "Delegate: fin-business-2 \(decided first\)" "and the delegate"
contains "$msg" "Approval: 1 of 2 signed" "one of two"
# 加签 before: fin-perf adds the director, who signs first.
expect 2 "add_signer needs a position" -- jx do P-OPS add_signer --as fin-perf --at 2021-04-05 --set assignee=fin-director
contains "$ERR" "before or after" "named"
expect 2 "only who could sign the step is added" -- jx do P-OPS add_signer --as fin-perf --at 2021-04-05 --set assignee=hlt-dept --set position=before
contains "$ERR" "actor hlt-dept cannot sign finance_approve of this project" "why"
expect 2 "not the submitter either" -- jx do P-OPS add_signer --as fin-perf --at 2021-04-05 --set assignee=edu-school-1 --set position=before
expect 0 "add a signer before" -- jx do P-OPS add_signer --as fin-perf --at 2021-04-05 --set assignee=fin-director --set position=before
expect 2 "fin-perf waits for the added signer" -- jx do P-OPS finance_approve --as fin-perf --at 2021-04-06
contains "$ERR" "fin-perf signs after actor fin-director \(加签\)" "why"
expect 0 "the director's inbox" -- jx inbox --as fin-director
contains "$OUT" "P-OPS +finance_review +finance_approve +1 of 3 signed" "it waits for the added signer"
expect 0 "the added signer signs" -- jx do P-OPS finance_approve --as fin-director --at 2021-04-06
expect 0 "fin-perf completes it" -- jx do P-OPS finance_approve --as fin-perf --at 2021-04-07
contains "$OUT" "P-OPS: finance_review -> approved" "3 of 3: approved"
# 转办 and 减签 on P-TR: fin-perf transfers to fin-perf-2; fin-business adds
# fin-perf after itself (a colleague of its own section could sign its
# slot too: refused), then removes it again.
expect 0 "transfer" -- jx do P-TR transfer --as fin-perf --at 2021-04-02 --set assignee=fin-perf-2
# 抄送: the budget section has a copy of every finance approval (the
# definition's copy); fin-business copies hlt-dept in at run time.
expect 0 "fin-budget's inbox: a read-only copy" -- jx inbox --as fin-budget
contains "$OUT" "P-TR +finance_review +copy: finance_approve" "the copy"
expect 0 "copy" -- jx do P-TR copy --as fin-business --at 2021-04-02 --set assignee=hlt-dept
expect 2 "copied once" -- jx do P-TR copy --as fin-business --at 2021-04-02 --set assignee=hlt-dept
contains "$ERR" "has a copy \(抄送\) already" "why"
expect 0 "hlt-dept's inbox" -- jx inbox --as hlt-dept --json
contains "$OUT" '"copy": true' "marked a copy"
expect 2 "a copy cannot act" -- jx do P-TR finance_approve --as hlt-dept --at 2021-04-02
expect 2 "the one who transferred is out" -- jx do P-TR finance_approve --as fin-perf --at 2021-04-03
contains "$ERR" "not among the signers still needed" "refused"
contains "$ERR" "actor fin-perf-2" "the remedy names the transferee"
expect 2 "not a colleague who could sign the adder's slot" -- jx do P-TR add_signer --as fin-business --at 2021-04-03 --set assignee=fin-business-2 --set position=after
contains "$ERR" "its role fills a slot still open" "why"
expect 0 "add after" -- jx do P-TR add_signer --as fin-business --at 2021-04-03 --set assignee=fin-perf --set position=after
expect 2 "an added-after signer waits" -- jx do P-TR finance_approve --as fin-perf --at 2021-04-03
contains "$ERR" "fin-perf signs after role finance_business" "why"
expect 2 "only who added a signer removes it" -- jx do P-TR remove_signer --as fin-perf-2 --at 2021-04-04 --set assignee=fin-perf
contains "$ERR" "only who added a signer removes it" "why"
expect 2 "減签 only removes added signers" -- jx do P-TR remove_signer --as fin-business --at 2021-04-04 --set assignee=fin-perf-2
contains "$ERR" "减签 removes those only" "why"
expect 0 "remove it" -- jx do P-TR remove_signer --as fin-business --at 2021-04-04 --set assignee=fin-perf
expect 0 "the transferee signs" -- jx do P-TR finance_approve --as fin-perf-2 --at 2021-04-05
expect 0 "the business section completes it" -- jx do P-TR finance_approve --as fin-business --at 2021-04-06
contains "$OUT" "P-TR: finance_review -> approved" "2 of 2 after the removal"
log=$(git --git-dir "$STORE" log --format='%an %(trailers:key=Event,valueonly,separator=)' refs/jx/projects/P-TR)
contains "$log" "fin-perf transfer" "the transfer is a commit by its actor"
contains "$log" "fin-business remove_signer" "so is the removal"
contains "$(jx show P-TR --json)" '"status": "approved"' "no assignee left in the project"
checks=$((checks + 1))
case $(jx show P-TR --json) in *'"assignee"'*) failures=$((failures + 1)); echo "FAIL assignee stayed in the state";; esac

# Bulk (批量): one line per item, a refusal does not stop the others.
for id in B-1 B-2 B-3; do project "$id.toml" "$id" 1000 new "$TARGETS"; done
sed -i 's/"education"/"health"/; s/edu-school-1/hlt-clinic-1/' B-2.toml
cat >bulk.jx <<'JX'
at 2021-04-20
submit B-1.toml
submit B-2.toml
submit B-3.toml
JX
expect 0 "three requests" -- jx run bulk.jx
expect 2 "edu-dept approves three, one is health's" -- jx do B-1,B-2,B-3 dept_approve --as edu-dept --at 2021-04-21
contains "$OUT" "B-1: dept_review -> finance_review" "B-1 approved"
contains "$OUT" "B-3: dept_review -> finance_review" "B-3 approved"
contains "$ERR" "B-2 dept_approve: refused by workflow" "B-2 refused, named"
contains "$(jx show B-2 --json)" '"status": "dept_review"' "B-2 untouched"
expect 0 "bulk return" -- jx do B-1,B-3 return --as fin-business --at 2021-04-22 --set return_to=previous
contains "$OUT" "B-1: finance_review -> dept_review" "B-1 returned"
contains "$OUT" "B-3: finance_review -> dept_review" "B-3 returned"
expect 1 "no id" -- jx do , dept_approve --as edu-dept --at 2021-04-22

expect 1 "a project named twice" -- jx do B-1,B-1 dept_approve --as edu-dept --at 2021-04-23
contains "$ERR" "B-1 is named twice" "why"
# An operation's parameters are the event's: a return_to left in a
# submitted file is not kept for a later return.
project R-1.toml R-1 1000 new 'return_to = "returned"' "$TARGETS"
expect 0 "submit with a stray return_to" -- jx submit R-1.toml --at 2021-04-20
checks=$((checks + 1))
case $(jx show R-1 --json) in *return_to*) failures=$((failures + 1)); echo "FAIL return_to kept";; esac
expect 2 "a return without return_to asks where" -- jx do R-1 return --as edu-dept --at 2021-04-21
contains "$ERR" "a return says where to" "asked"
# passed_by after a return names who returned it, not a partial signer.
expect 0 "B-1 back to finance" -- jx do B-1 dept_approve --as edu-dept --at 2021-04-23
expect 0 "fin-business signs B-1" -- jx do B-1 finance_approve --as fin-business --at 2021-04-24
contains "$OUT" "B-1: finance_review -> approved" "small: one signer"

# Deadlines: 10 working days in finance_review, then the director decides.
project esc.toml P-ESC 12000000 new \
  'ex_ante_report = "r.pdf"' 'ex_ante_conclusion = "support"' "$TARGETS"
cat >esc.jx <<'JX'
at 2021-04-30
submit esc.toml
do P-ESC dept_approve --as edu-dept --at 2021-05-03
do P-ESC ex_ante_review --as fin-perf --at 2021-05-04 \
  --set 'ex_ante_scores={necessity=18, economy=17, targets=17, feasibility=16, compliance=17}'
do P-ESC key_review --as fin-perf --at 2021-05-04
JX
expect 0 "to finance on Monday 3 May" -- jx run esc.jx
expect 0 "the inbox shows the deadline" -- jx inbox --as fin-business
contains "$OUT" "^2021-05-03 +2021-05-17 +P-ESC" "10 working days: 17 May"
expect 2 "only the calendar escalates" -- jx do P-ESC escalate --as fin-business --at 2021-05-20
expect 2 "and only after the deadline" -- jx do P-ESC escalate --as calendar --at 2021-05-17
contains "$ERR" "escalates when its deadline \(2021-05-17\) has passed" "why"
expect 0 "on the deadline nothing happens" -- jx tick --to 2021-05-17
checks=$((checks + 1))
case $OUT in *P-ESC*) failures=$((failures + 1)); echo "FAIL escalated on the deadline";; esac
expect 0 "the day after, it escalates" -- jx tick --to 2021-05-18
contains "$OUT" "P-ESC: escalate finance_review -> finance_review" "an event of the calendar"
msg=$(git --git-dir "$STORE" log -1 --format='%an%n%B' refs/jx/projects/P-ESC)
contains "$msg" "^calendar" "the calendar is its actor"
contains "$msg" "Escalated: to fin-director, deadline 2021-05-17 passed" "the history says so"
expect 0 "ticking again escalates nothing new" -- jx tick --to 2021-05-20
checks=$((checks + 1))
case $OUT in *P-ESC*) failures=$((failures + 1)); echo "FAIL escalated twice";; esac
expect 2 "the business section's slot is the director's now" -- jx do P-ESC finance_approve --as fin-business --at 2021-05-19
expect 0 "the director's inbox" -- jx inbox --as fin-director
contains "$OUT" "P-ESC +finance_review +finance_approve +0 of 1 signed" "one decision for the step"
expect 0 "the director decides for the step" -- jx do P-ESC finance_approve --as fin-director --at 2021-05-19
contains "$OUT" "P-ESC: finance_review -> approved" "approved"

# A tick over several dates escalates on the deadline's day, before the
# calendar's later timers.
project late.toml P-LATE 1000 new "$TARGETS"
expect 0 "P-LATE to finance on 24 May" -- sh -c '"$0" submit late.toml --at 2021-05-21 && "$0" do P-LATE dept_approve --as edu-dept --at 2021-05-24' "$JX"
expect 0 "tick past the half-year" -- jx tick --to 2021-07-01
contains "$(git --git-dir "$STORE" log -1 --format='%ad %s' --date=short refs/jx/projects/P-LATE)" "^2021-06-08 escalate" "escalated on 8 June, its day"

# A deployment with other approvals: N of M, chains, and an approval the
# submitter could sign.
cp workflows/budget.toml workflows/base.toml
# (perl: part of every Debian system, unlike python.)
perl -0pi -e '
  # finance_approve: 2 of 3, whatever keys its approval table has
  s/\[transition\.approval\]\nmode = "all"\n(?:[a-z_]+ = [^\n]*\n)*/[transition.approval]\nmode = "quorum"\nquorum = 2\n\n[[transition.approval.signer]]\nactor = "fin-budget"\n/;
  s/(event = "finance_approve".*?\nroles = \[)"finance_business", "finance_performance"\]/$1"finance_business", "finance_performance", "finance_budget"]/s;
  s/(event = "dept_approve"\nfrom = \["dept_review"\]\nto = "finance_review"\n)roles = \["department"\]\ntask = true/$1roles = ["department", "finance_budget"]\n\n[transition.approval]\nmode = "chain"\n\n[[transition.approval.signer]]\nactor = "fin-budget"\n\n[[transition.approval.signer]]\nrole = "department"/;
' workflows/budget.toml
rm -rf "$STORE" && jx init >/dev/null
project q1.toml Q-1 12000000 new 'ex_ante_report = "r.pdf"' 'ex_ante_conclusion = "support"' "$TARGETS"
# The department's own record (部门整体), submitted by the department.
project q2.toml Q-2 1000000 continue 'level = "department"' "$TARGETS"
sed -i 's/unit = "edu-school-1"/unit = "edu-dept"/' q2.toml
expect 0 "submit" -- jx submit q1.toml --at 2021-03-01
expect 0 "submit" -- jx submit q2.toml --at 2021-03-01
# 依次: the budget section, then the department.
expect 2 "the department before the first in the chain" -- jx do Q-1 dept_approve --as edu-dept --at 2021-03-02
contains "$ERR" "sign in order \(依次\) and actor fin-budget has not signed yet" "the order"
expect 0 "fin-budget first" -- jx do Q-1 dept_approve --as fin-budget --at 2021-03-02
expect 0 "then the department" -- jx do Q-1 dept_approve --as edu-dept --at 2021-03-03
contains "$OUT" "Q-1: dept_review -> finance_review" "the chain is done"
expect 0 "fin-budget signs Q-2" -- jx do Q-2 dept_approve --as fin-budget --at 2021-03-02
expect 2 "the submitter cannot approve its own request" -- jx do Q-2 dept_approve --as edu-dept --at 2021-03-03
contains "$ERR" "submitted this project and cannot approve its own request" "why"
# 2 of 3 (fin-budget, the business section, the performance section).
cat >q.jx <<'JX'
at 2021-03-04
do Q-1 ex_ante_review --as fin-perf \
  --set 'ex_ante_scores={necessity=18, economy=17, targets=17, feasibility=16, compliance=17}'
do Q-1 key_review --as fin-perf
do Q-1 finance_approve --as fin-budget
JX
expect 0 "one of the quorum" -- jx run q.jx
expect 0 "not reached with one" -- jx show Q-1 --json
contains "$OUT" '"status": "finance_review"' "1 of 2: still in review"
expect 2 "a role not among the signers" -- jx do Q-1 finance_approve --as edu-dept --at 2021-03-05
expect 0 "the second reaches the quorum" -- jx do Q-1 finance_approve --as fin-perf --at 2021-03-05
contains "$OUT" "Q-1: finance_review -> approved" "2 of 3: approved"
contains "$(git --git-dir "$STORE" log -1 --format=%B refs/jx/projects/Q-1)" "Approval: 2 of 3 signed \(quorum\)" "the trailer"

# Mistakes in an approval table are the definition's, with a position.
sed -i 's/^mode = "quorum"$/mode = "most"/' workflows/budget.toml
expect 1 "an unknown mode" -- jx tick --to 2021-03-10
contains "$ERR" "budget.toml:[0-9]+:[0-9]+: approval mode must be any \(或签\), all \(会签\), quorum \(N of M\) or chain \(依次\)" "named, with its line"
sed -i 's/^mode = "most"$/mode = "quorum"/; s/^quorum = 2$/quorum = 4/' workflows/budget.toml
expect 1 "a quorum above the signers" -- jx tick --to 2021-03-10
contains "$ERR" "quorum = N, 1 to the number of signers" "named"
store_intact "after the approvals"
finish
