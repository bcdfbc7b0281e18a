# Helpers for end-to-end tests: each test runs the real jx binary and the
# real git CLI in a fresh temporary deployment (a copy of the repository's
# workflow.toml, workflows/ and plugins/), so tests may change it freely.
set -u
SRC=${JX_SOURCE_DIR:?JX_SOURCE_DIR must point at the repository}
JX=${JX:-$SRC/build/jx}
T=$(mktemp -d "${TMPDIR:-/tmp}/jx-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
cp "$SRC/workflow.toml" "$T/"
cp -r "$SRC/workflows" "$SRC/plugins" "$T/"
cd "$T"
STORE=$T/store.git
failures=0
checks=0

jx() { "$JX" "$@"; }

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, keeps its output in
# $OUT / $ERR, and checks its exit status.
expect() {
  want=$1 what=$2
  shift 3
  checks=$((checks + 1))
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  OUT=$(cat "$T/out") ERR=$(cat "$T/err")
  if [ "$got" -ne "$want" ]; then
    failures=$((failures + 1))
    printf 'FAIL %s: exit %d, wanted %d\n  cmd: %s\n  stdout: %s\n  stderr: %s\n' \
      "$what" "$got" "$want" "$*" "$OUT" "$ERR"
    return 1
  fi
  return 0
}

# contains TEXT PATTERN DESCRIPTION: PATTERN (grep -E) must occur in TEXT.
contains() {
  checks=$((checks + 1))
  if ! printf '%s' "$1" | grep -Eq -- "$2"; then
    failures=$((failures + 1))
    printf 'FAIL %s: no /%s/ in:\n%s\n' "$3" "$2" "$1"
  fi
}

# store_intact: git fsck is clean and the store opens.
store_intact() {
  checks=$((checks + 1))
  if ! git --git-dir "$STORE" fsck --strict >"$T/fsck" 2>&1; then
    failures=$((failures + 1))
    printf 'FAIL %s: git fsck:\n%s\n' "$1" "$(cat "$T/fsck")"
  fi
  expect 0 "$1: store opens" -- jx list >/dev/null
}

# project FILE ID AMOUNT KIND [extra TOML lines...]: writes a project file.
project() {
  f=$1 id=$2 amount=$3 kind=$4
  shift 4
  {
    printf 'id = "%s"\ntitle = "test project"\ndepartment = "education"\n' "$id"
    printf 'unit = "edu-school-1"\nbudget_type = "general"\nkind = "%s"\n' "$kind"
    printf 'amount = %s\nyear = 2021\n' "$amount"
    for line in "$@"; do printf '%s\n' "$line"; done
  } >"$f"
}

# A project's targets (R-3): one leaf of the indicator tree under output
# and one under outcome, as every project needs.  TOML tables: last in a file.
TARGETS='[[targets]]
level1 = "output"
level2 = "quantity"
indicator = "schools renovated"
comparator = ">="
value = 12
unit = "schools"

[[targets]]
level1 = "outcome"
level2 = "social"
indicator = "pupils in renovated schools"
comparator = ">="
value = 3000
unit = "pupils"'

finish() {
  echo "$checks checks, $failures failed"
  [ "$failures" -eq 0 ]
  exit $?
}
