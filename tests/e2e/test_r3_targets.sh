# R-3 through jx: targets as an indicator tree, a bureau requiring
# satisfaction indicators, and the adjust of an executing project whose
# content or amount moves its targets.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init

OUTPUT='[[targets]]
level1 = "output"
level2 = "quantity"
indicator = "schools renovated"
comparator = ">="
value = 12
unit = "schools"'
SATISFACTION='[[targets]]
level1 = "satisfaction"
level2 = "service"
indicator = "parents satisfied"
comparator = ">="
value = 90
unit = "%"'

# ---- The shape, under the repository's parameters ----
project output.toml P-OUT 100 new "$OUTPUT"
expect 2 "only output indicators" -- jx submit output.toml --at 2021-03-01
contains "$ERR" "P-OUT submit: refused by R-3" "R-3 named"
contains "$ERR" "no target is an indicator of outcome \(效益\)" "the missing group named"
contains "$ERR" 'remedy: .*level1 = "outcome"' "an example in the remedy"

project level2.toml P-L2 100 new "$(printf '%s' "$TARGETS" | sed 's/level2 = "social"/level2 = "speed"/')"
expect 2 "a level2 that is not in the tree" -- jx submit level2.toml --at 2021-03-01
contains "$ERR" 'target 2 \(pupils in renovated schools\) has level2 = "speed"' "target and key named"

project unit.toml P-UNIT 100 new "$(printf '%s' "$TARGETS" | sed '/unit = "schools"/d')"
expect 2 "a quantitative target without its unit" -- jx submit unit.toml --at 2021-03-01
contains "$ERR" "target 1 \(schools renovated\) has no unit" "target and key named"

project ok.toml P-OK 100 new "$TARGETS"
expect 0 "output and outcome: enough here" -- jx submit ok.toml --at 2021-03-01

# ---- A bureau that adds satisfaction to required_level1 ----
sed -e 's/^required_level1 = .*/required_level1 = ["output", "outcome", "satisfaction"]/' \
    -e 's/^path = "store.git"/path = "bureau.git"/' workflow.toml >bureau.toml
checks=$((checks + 1))
grep -q '^required_level1 = \["output", "outcome", "satisfaction"\]' bureau.toml ||
  { failures=$((failures + 1)); echo "FAIL the bureau's copy did not change required_level1"; }
expect 0 "the bureau's store" -- jx -c bureau.toml init
expect 2 "no satisfaction indicator" -- jx -c bureau.toml submit ok.toml --at 2021-03-01
contains "$ERR" "P-OK submit: refused by R-3" "R-3 named"
contains "$ERR" "no target is an indicator of satisfaction \(满意度\)" "satisfaction named"
contains "$ERR" 'level1 = "satisfaction", level2 = "service"' "an example in the remedy"
project sat.toml P-SAT 100 new "$TARGETS" "" "$SATISFACTION"
expect 0 "with one, the bureau accepts it" -- jx -c bureau.toml submit sat.toml --at 2021-03-01

# ---- adjust (调整): a content change that moves targets ----
project adj.toml P-ADJ 1000000 new 'content = "renovate 12 schools"' "$TARGETS"
expect 0 "submit" -- jx submit adj.toml --at 2021-03-01
expect 2 "adjust is for executing projects" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-03-02 --set 'amount=2000000'
contains "$ERR" "refused by workflow" "the workflow refuses it"
expect 0 "dept" -- jx do P-ADJ dept_approve --as edu-dept --at 2021-03-05
expect 0 "finance" -- jx do P-ADJ finance_approve --as fin-business --at 2021-03-10
expect 0 "release" -- jx do P-ADJ release --as fin-budget --at 2021-04-01

expect 0 "exactly 10 % more needs no new targets" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-05-01 --set 'amount=1100000'
contains "$OUT" "P-ADJ: executing -> executing" "it stays executing"
# The amount is now 1,100,000: 10 % of it is 110,000.
expect 2 "one yuan more than 10 %, no targets" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-05-02 --set 'amount=1210001'
contains "$ERR" "P-ADJ adjust: refused by R-3" "R-3 named"
contains "$ERR" "the amount changes from 1,100,000 to 1,210,001 yuan" "what moved"
contains "$ERR" "remedy: .*--set 'targets=\[" "an example in the remedy"
SAME='targets=[{ level1 = "output", level2 = "quantity", indicator = "schools renovated", comparator = ">=", value = 12, unit = "schools" }, { level1 = "outcome", level2 = "social", indicator = "pupils in renovated schools", comparator = ">=", value = 3000, unit = "pupils" }]'
MOVED=$(printf '%s' "$SAME" | sed 's/value = 12,/value = 14,/')
expect 2 "the current targets again" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-05-02 --set 'amount=1210001' --set "$SAME"
contains "$ERR" "the targets sent are the project's current ones" "named"
expect 0 "with adjusted targets" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-05-02 --set 'amount=1210001' --set "$MOVED"
expect 2 "a content change without targets" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-06-01 --set 'content="renovate 14 schools and a gym"'
contains "$ERR" "the content \(实施内容\) changes" "what moved"
expect 2 "a malformed target" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-06-01 --set 'content="renovate 14 schools and a gym"' --set "$(printf '%s' "$MOVED" | sed 's/comparator = ">=", value = 14/comparator = ">", value = 14/')"
contains "$ERR" 'target 1 \(schools renovated\) has comparator = ">"' "target and key named"
expect 0 "content and targets together" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-06-01 --set 'content="renovate 14 schools and a gym"' --set "$(printf '%s' "$MOVED" | sed 's/value = 3000/value = 3400/')"
expect 0 "a title needs nothing" -- jx do P-ADJ adjust --as edu-school-1 --at 2021-06-02 --set 'title="schools and a gym"'
expect 0 "show" -- jx show P-ADJ --json
contains "$OUT" '"value": 3400' "the adjusted targets are the project's"
contains "$OUT" '"status": "executing"' "still executing"
store_intact "after the adjustments"
finish
