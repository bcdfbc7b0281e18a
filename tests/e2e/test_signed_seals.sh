# Signed seals: with [store] signing_key every seal is signed (SSH, as git
# signs commits); jx audit verify --key and plain git verify-commit check
# them.
. "$JX_SOURCE_DIR/tests/e2e/lib.sh"
ssh-keygen -q -t ed25519 -N '' -C bureau -f bureau_key
ssh-keygen -q -t ed25519 -N '' -C other -f other_key
sed -i 's|^path = "store.git" .*$|path = "store.git"\nsigning_key = "bureau_key"|' workflow.toml
expect 0 "init" -- jx init
project a.toml A-1 1000 new "$TARGETS"
expect 0 "submit" -- jx submit a.toml --at 2021-03-01
expect 0 "approve" -- jx do A-1 dept_approve --as edu-dept --at 2021-03-02
expect 0 "the seals verify with the bureau's key" -- jx audit verify --key bureau_key.pub
contains "$OUT" "verified 1 records, 2 commits, 2 seals: ok" "all signed"
expect 4 "not with another key" -- jx audit verify --key other_key.pub
contains "$OUT" "the seal's signature does not verify with other_key.pub" "named"
# Plain git checks them too.
printf 'jixiao %s\n' "$(cat bureau_key.pub)" >allowed_signers
expect 0 "git verify-commit" -- git --git-dir "$STORE" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit refs/jx/seal
contains "$ERR" "Good \"git\" signature" "git says good"
# An unsigned seal (a history re-sealed without the key) is caught.
g() { git --git-dir "$STORE" "$@"; }
g update-ref refs/jx/seal "$(g commit-tree -p refs/jx/seal -m 'seal: unsigned' refs/jx/seal^{tree})"
expect 4 "an unsigned seal" -- jx audit verify --key bureau_key.pub
contains "$OUT" "the seal is not signed" "named"
# A key that cannot be read is the deployment's mistake, said at once.
sed -i 's|^signing_key = "bureau_key"|signing_key = "nosuch_key"|' workflow.toml
expect 1 "a missing signing key" -- jx do A-1 dept_approve --as edu-dept --at 2021-03-03
contains "$ERR" "nosuch_key" "named"
finish
