# jx audit verify catches each kind of tampering with the store, and a
# mirror verifies on its own.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
expect 0 "init" -- jx init
for id in A-1 A-2; do project "$id.toml" "$id" 1000 new "$TARGETS"; done
cat >a.jx <<'JX'
at 2021-03-01
submit A-1.toml
submit A-2.toml
do A-1 dept_approve --as edu-dept --at 2021-03-02
do A-1 finance_approve --as fin-business --at 2021-03-03
do A-2 dept_approve --as edu-dept --at 2021-03-04
JX
expect 0 "a few decisions" -- jx run a.jx
expect 0 "a clean store verifies" -- jx audit verify
contains "$OUT" "verified 2 records, 5 commits, [0-9]+ seals: ok" "the summary"
published=$(git --git-dir "$STORE" rev-parse refs/jx/seal)
expect 0 "the published seal is in the chain" -- jx audit verify "$published"
contains "$OUT" "the published seal [0-9a-f]{12} is in the seal chain" "said"
cp -r "$STORE" base.git
g() { git --git-dir "$STORE" "$@"; }
fresh() { rm -rf "$STORE"; cp -r base.git "$STORE"; }
tampered() { # tampered DESCRIPTION PATTERN: verify fails naming it
  expect 4 "$1" -- jx audit verify
  contains "$OUT" "$2" "$1: named"
  contains "$OUT" "PROBLEMS" "$1: the summary says so"
}
A=refs/jx/projects/A-1

g update-ref $A $A~1
tampered "a ref moved back" "^A-1 [0-9a-f]{12}: the ref points elsewhere than the last seal says"

fresh
forged=$(g commit-tree -p $A~1 -m "finance_approve: A-1 finance_review -> approved" $A^{tree})
g update-ref $A "$forged"
tampered "a forged commit" "^A-1 [0-9a-f]{12}: (trailer|the ref points elsewhere)"

fresh
g update-ref -d $A
tampered "a deleted project ref" "^A-1 [0-9a-f]{12}: the seal lists this record and its ref is gone"

fresh
# An edited state: a new state blob in a tree and a commit like the old.
printf '\201\246status\250approved' >state.bin
blob=$(g hash-object -w state.bin)
tree=$(g ls-tree $A | sed "s/[0-9a-f]\{40\}\tstate.msgpack/$blob\tstate.msgpack/" | g mktree)
edited=$(g cat-file commit $A | sed '1,/^$/d' | g commit-tree -p $A~1 "$tree")
g update-ref $A "$edited"
tampered "an edited state blob" "^A-1 [0-9a-f]{12}: "

fresh
g replace $A~1 "$(g commit-tree -m forged $A^{tree})"
tampered "git replace" "refs/replace/[0-9a-f]+: a replace ref"

fresh
# filter-branch rewrites the commits (messages here) and moves the ref.
g config user.name tester && g config user.email t@example.org
FILTER_BRANCH_SQUELCH_WARNING=1 git --git-dir "$STORE" filter-branch -f --msg-filter 'sed s/finance_approve/approve/' -- $A >/dev/null 2>&1
tampered "a rewritten history (filter-branch)" "^A-1 [0-9a-f]{12}: "

# A forged head sealed on top of the real chain: the older seals list a
# head the new chain no longer holds.
fresh
forged=$(g commit-tree -p $A~1 -m "finance_approve: A-1 finance_review -> approved" $A^{tree})
heads=$(printf '%s A-1\n' "$forged" | g hash-object -w --stdin)
stree=$(printf '100644 blob %s\theads\n' "$heads" | g mktree)
g update-ref refs/jx/seal "$(g commit-tree -p refs/jx/seal -m 'seal: 1 transitions' "$stree")"
g update-ref $A "$forged"
tampered "a rewrite sealed on top" "^A-1 [0-9a-f]{12}: a seal lists this commit as the record's head, and its chain does not hold it"

# A history rewritten and sealed again: the seal published before is not
# in the new chain.
fresh
g update-ref refs/jx/seal "$(g commit-tree -m 'seal: forged' refs/jx/seal^{tree})"
expect 4 "a re-sealed history against the published seal" -- jx audit verify "$published"
contains "$OUT" "the published seal $published is not in the store's seal chain" "named"

fresh
# Truncated object files: every pack cut to half.
for pack in "$STORE"/objects/pack/*.pack; do
  truncate -s $(($(wc -c <"$pack") / 2)) "$pack"
done
expect 4 "a truncated pack" -- jx audit verify
contains "$OUT$ERR" "cannot be read|reading the seal|object not found|PROBLEMS" "reported, not a crash"

# A mirror verifies on its own: git clone --mirror copies refs and objects.
fresh
expect 0 "git clone --mirror" -- git clone -q --mirror "$STORE" "$T/replica.git"
expect 0 "the replica verifies" -- jx --store "$T/replica.git" audit verify
contains "$OUT" "verified 2 records, 5 commits" "the same records"
expect 4 "a writer does not take a mirror for a store" -- jx --store "$T/replica.git" do A-2 finance_approve --as fin-business --at 2021-03-05
contains "$ERR" "not a jixiao store" "named"
git --git-dir "$T/replica.git" update-ref refs/jx/projects/A-2 refs/jx/projects/A-2~1
expect 4 "tampering with the replica is caught there too" -- jx --store "$T/replica.git" audit verify
finish
