#!/bin/sh
# peer_bpmn.sh N OUTDIR: the JavaScript peer of jixiao's throughput benchmark.
#
# What it measures: transitions (git commits, never fsynced) per second when the
# budget lifecycle runs in bpmn-engine and every state change is committed
# with isomorphic-git, as a JavaScript team would build it instead of jixiao.
# The harness is ../shared/peer (README.md, bench_bpmn.mjs, lifecycle.bpmn),
# copied to OUTDIR/peer (the shared folder is never modified) and installed
# there with npm; then `node bench_bpmn.mjs OUTDIR/peer-store N` runs N
# projects one after the other.  Only that node run is timed (date +%s.%N
# around it: node start-up and module loading, about 0.2 s, are included; the
# npm install and removing an old store are not).
#
# Why the comparison is fair (and which way it leans):
# - Same shape of work as scripts/bench (jx-bench): N projects, one commit
#   per transition, each project's commits chained on its own ref
#   (refs/projects/ID here, refs/jx/projects/ID in jixiao), each commit a
#   tree holding the state blob.
# - Transitions per project: the harness commits once after execute() and
#   once per user-task wait.  lifecycle.bpmn has submit, [exAnte], three
#   parallel approvals, monitorH1, monitorQ3 and evaluate.  Its exAnte branch
#   is guarded by `${environment.variables.amount >= 5000000}`, which
#   bpmn-elements' expression resolver does not evaluate (it reads
#   "amount >= 5000000" as a property path: undefined, so false), so exAnte
#   never runs, even for the 6,000,000-yuan projects: 7 waits + 1 = 8 commits
#   per project, the same 8 as jixiao's (submit, dept_approve,
#   finance_approve, release, flag, resume, close, self_evaluate), not the 9
#   one might expect.  The script counts the commits the harness reports and
#   checks them against the store, so the rate is per commit either way.
# - The peer is favoured: isomorphic-git writes loose objects and loose refs
#   and never fsyncs (jixiao fsyncs a pack, the seal ref and packed-refs per
#   batch); it writes 3 objects per commit (blob, tree, commit) where jixiao
#   writes 4 (state blob, event blob, tree, commit) plus a seal per batch;
#   it does not check roles or run rule guards.
# - The peer is handicapped in one way: bpmn-engine's state, serialised as
#   JSON, is about 12-21 KB per commit, where jixiao's msgpack state is
#   about 1-2 KB; and it is a single-threaded run of one project at a time.
#   Its engine alone (NOGIT=1) did 339/s here under load 2.8 (its README:
#   about 650/s): roughly half of its time is bpmn-engine, not git.
# Measured on the shared 2-core machine (load 2-3.5), N=1,000: 8,000
# commits in 50-57 s, 140-161 transitions/s; the store is 24,000 loose
# objects, about 100 MB.
#
# Output: the resolved package versions, the harness's own line, then ONE
# final line: peer bpmn: projects=N transitions=T seconds=S rate=R
# (R = T / S, transitions per second).
#
# Environment: PEER_SRC overrides the harness folder (default:
# ../shared/peer beside the repository).  Needs node (>= 18) and npm, and the
# npm registry for the first install.
set -eu

prog=peer_bpmn.sh
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $prog N OUTDIR"
N=$1
case $N in '' | *[!0-9]*) die "N must be a positive integer, not '$N'" ;; esac
[ "$N" -ge 1 ] || die "N must be at least 1"

command -v node >/dev/null 2>&1 || die "node not found (install Node.js >= 18, e.g. apt-get install nodejs)"
command -v npm >/dev/null 2>&1 || die "npm not found (install npm, e.g. apt-get install npm)"

here=$(cd "$(dirname "$0")" && pwd)
src=${PEER_SRC:-$here/../../../shared/peer}
if [ ! -f "$src/bench_bpmn.mjs" ] || [ ! -f "$src/package.json" ]; then
  die "no peer harness at $src (set PEER_SRC to the folder holding bench_bpmn.mjs)"
fi
src=$(cd "$src" && pwd)

mkdir -p "$2" || die "cannot create $2"
OUTDIR=$(cd "$2" && pwd)
peer=$OUTDIR/peer
store=$OUTDIR/peer-store

# A fresh copy; the shared folder is read-only, so make the copy writable,
# and leave out anything installed there by hand.
rm -rf "$peer"
cp -R "$src" "$peer" || die "cannot copy $src to $peer"
chmod -R u+w "$peer"
rm -rf "$peer/node_modules"

# npm writes package-lock.json inside the copy only; its resolved versions
# are printed below so a figure can be tied to them.
(cd "$peer" && npm install --no-audit --no-fund --loglevel=error >"$OUTDIR/npm-install.log" 2>&1) || {
  tail -n 20 "$OUTDIR/npm-install.log" >&2
  die "npm install failed in $peer (log: $OUTDIR/npm-install.log)"
}
versions=$(cd "$peer" && node -e '
  console.log(["bpmn-engine", "bpmn-elements", "isomorphic-git"]
    .map((p) => p + "@" + require("./node_modules/" + p + "/package.json").version).join(" "));
') || die "installed packages are unreadable in $peer/node_modules"
echo "versions: node $(node --version) $versions"

rm -rf "$store"
unset NOGIT # always measure with git
out=$OUTDIR/peer-bpmn.out
t0=$(date +%s.%N)
(cd "$peer" && node bench_bpmn.mjs "$store" "$N") >"$out" 2>&1 || {
  cat "$out" >&2
  die "node bench_bpmn.mjs failed"
}
t1=$(date +%s.%N)
cat "$out"

# The harness's count: "...: N projects, T commits in S s = R transitions/s".
T=$(sed -n 's/.* projects, \([0-9][0-9]*\) commits in .*/\1/p' "$out" | tail -n 1)
[ -n "$T" ] || die "cannot read the commit count from the harness's output"
if command -v git >/dev/null 2>&1; then
  c=$(git -C "$store" rev-list --count --all) || die "cannot read the peer's store $store"
  [ "$c" -eq "$T" ] || die "the harness reports $T commits but its store holds $c"
fi

echo "$N $T $t0 $t1" | awk '{ s = $4 - $3; printf "peer bpmn: projects=%d transitions=%d seconds=%.2f rate=%.0f\n", $1, $2, s, $2 / s }'
