# Two other cities run the same engine with their own parameters and a
# local Lua rule: no C changes (scripts/variations/).
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
mkdir -p scripts
cp -r "$SRC/scripts/variations" scripts/
dh() { "$JX" -c scripts/variations/donghai/workflow.toml "$@"; }
xs() { "$JX" -c scripts/variations/xishan/workflow.toml "$@"; }

expect 0 "Donghai: init" -- dh init
project a.toml D-A 2999999 new "$TARGETS"
expect 0 "Donghai: 2,999,999 needs no assessment" -- dh submit a.toml
project b.toml D-B 3000000 new "$TARGETS"
expect 2 "Donghai: 3,000,000 does (R-2 at 300万元)" -- dh submit b.toml
contains "$ERR" "refused by R-2" "R-2 named"
contains "$ERR" "threshold 3,000,000" "Donghai's threshold"
project c.toml D-C 50000001 new 'ex_ante_report = "r.pdf"' "$TARGETS"
expect 2 "Donghai: the local rule D-1 caps a project" -- dh submit c.toml
contains "$ERR" "refused by D-1" "the local rule named"
project d.toml D-D 50000000 new 'ex_ante_report = "r.pdf"' "$TARGETS"
expect 0 "Donghai: 50,000,000 is within the cap" -- dh submit d.toml
sed 's/^guard_on = \["submit", "supplement"\]/guard_on = ["sumbit"]/' scripts/variations/donghai/workflow.toml >scripts/variations/donghai/typo.toml
expect 1 "Donghai: a misspelt guard_on event is an error, not a rule switched off" -- "$JX" -c scripts/variations/donghai/typo.toml submit c.toml
contains "$ERR" "guard_on names \"sumbit\"" "names the typo"
expect 0 "Donghai: the coverage report" -- dh report coverage
contains "$OUT" "at least 25.0 %" "Donghai's 25 % goal"

expect 0 "Xishan: init" -- xs init
project e.toml X-E 7999999 new "$TARGETS"
expect 0 "Xishan: 7,999,999 needs no assessment" -- xs submit e.toml
project f.toml X-F 8000000 new "$TARGETS"
expect 2 "Xishan: 8,000,000 does" -- xs submit f.toml
contains "$ERR" "threshold 8,000,000" "Xishan's threshold"
project g.toml X-G 3000000 new "$TARGETS"
expect 0 "Xishan: what Donghai refuses, Xishan takes" -- xs submit g.toml
# The reports run in every city, with the city's registry.
expect 0 "Donghai: the third-party report" -- dh report third_party --csv
contains "$OUT" '^dh-consult,Donghai Performance Consulting,' "Donghai's registry"
expect 0 "Xishan: the recovery report" -- xs report recovery
contains "$OUT" "2 projects neither checked nor recovered" "Xishan's projects"
for c in donghai xishan; do
  expect 0 "$c: git fsck" -- git --git-dir "scripts/variations/$c/store.git" fsck --strict
done
finish
