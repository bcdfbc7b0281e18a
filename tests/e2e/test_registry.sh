# The registry of actors lives in the store, changed by commits: until the
# first change it is workflow.toml [actors]; then the store's.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
expect 0 "the actors of workflow.toml" -- jx actor list
contains "$OUT" "^edu-dept +department +department=education" "a department"
checks=$((checks + 1))
if git --git-dir "$STORE" rev-parse -q --verify refs/jx/registry >/dev/null; then
  failures=$((failures + 1)); echo "FAIL a registry before any change"
fi
expect 2 "only admin roles change it" -- jx actor add edu-school-3 --as edu-dept --at 2021-01-05 --set role=unit --set department=education --set unit=edu-school-3
contains "$ERR" "admin_roles" "named"
expect 1 "a role no transition allows" -- jx actor add x-1 --as fin-budget --at 2021-01-05 --set role=wizard
contains "$ERR" "role \"wizard\", which no transition" "named"
expect 1 "a scope key that is no field" -- jx actor add x-1 --as fin-budget --at 2021-01-05 --set role=unit --set planet=mars
contains "$ERR" "scoped by \"planet\"" "named"
expect 1 "a bad name" -- jx actor add ../x --as fin-budget --at 2021-01-05 --set role=unit
expect 0 "the budget section registers a new school" -- jx actor add edu-school-3 --as fin-budget --at 2021-01-05 --set role=unit --set department=education --set unit=edu-school-3
msg=$(git --git-dir "$STORE" log -1 --format='%an%n%B' refs/jx/registry)
contains "$msg" "^fin-budget" "the commit names who changed it"
contains "$msg" "Registry: add edu-school-3 \(unit; department=education, unit=edu-school-3\)" "and what"
expect 0 "no note while [actors] is as it was" -- jx actor list
checks=$((checks + 1))
case $ERR in *note:*) failures=$((failures + 1)); echo "FAIL a note without an edit";; esac
expect 1 "a change dated before the last" -- jx actor add edu-school-4 --as fin-budget --at 2020-01-01 --set role=unit --set department=education --set unit=edu-school-4
contains "$ERR" "before the registry's last" "refused"
expect 1 "nobody locks the registry" -- jx actor add fin-budget --as fin-budget --at 2021-01-05 --set role=department --set department=education
contains "$ERR" "no actor of \[workflow\] admin_roles" "refused"
expect 0 "the registry's commits verify" -- jx audit verify
expect 0 "the registry now" -- jx actor list --json
contains "$OUT" '"edu-school-3"' "listed"
# The new school submits; the registry is what authorizes it.
project s3.toml S-3 1000 new "$TARGETS"
sed -i 's/edu-school-1/edu-school-3/' s3.toml
expect 0 "the new school submits" -- jx submit s3.toml --at 2021-01-06
# Editing workflow.toml [actors] changes nothing now, and jx says so.
sed -i 's/^"hlt-dept" .*$/"hlt-dept"       = { role = "department", department = "education" }/' workflow.toml
expect 2 "hlt-dept is still health's" -- jx do S-3 dept_approve --as hlt-dept --at 2021-01-07
contains "$ERR" "note: .*\[actors\] was changed after the registry of actors in the store took over" "the note"
contains "$ERR" "acts for department health" "the registry decides"
# Removing an actor: it can act no more.
expect 0 "remove the school" -- jx actor remove edu-school-3 --as fin-budget --at 2021-01-08
expect 1 "a removed actor" -- jx do S-3 withdraw --as edu-school-3 --at 2021-01-09
contains "$ERR" "unknown actor \"edu-school-3\"" "unknown now"
expect 1 "nobody removes itself" -- jx actor remove fin-budget --as fin-budget --at 2021-01-09
expect 1 "or the calendar" -- jx actor remove calendar --as fin-budget --at 2021-01-09
expect 1 "or someone unknown" -- jx actor remove nobody --as fin-budget --at 2021-01-09
contains "$(git --git-dir "$STORE" log --format=%s refs/jx/registry | wc -l)" "^ *2$" "two commits: add, remove"
expect 0 "the seal covers the registry" -- sh -c 'git --git-dir "$0" show refs/jx/seal:heads' "$STORE"
contains "$OUT" " :registry$" "listed in the seal"
expect 0 "the registry is not a project" -- jx list --json
checks=$((checks + 1))
case $OUT in *registry*) failures=$((failures + 1)); echo "FAIL the registry listed as a project";; esac
expect 1 "actor needs a subcommand it knows" -- jx actor frobnicate
expect 0 "after a removal it verifies" -- jx audit verify
# A damaged registry does not stop the tools that diagnose it.
git --git-dir "$STORE" update-ref refs/jx/registry refs/jx/projects/S-3
expect 4 "verify names the damage" -- jx audit verify
contains "$OUT" "^:registry " "the registry named"
expect 0 "list still runs" -- jx list
store_intact "after the registry"
finish
