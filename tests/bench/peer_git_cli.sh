#!/bin/sh
# peer_git_cli.sh N OUTDIR: the shell peer of jixiao's throughput benchmark,
# "one `git commit` per transition through the git CLI".
#
# What it measures: transitions per second when each transition of each
# project is one real commit made by the git command line, as a shell user
# would keep an audit trail in git.  The workload is scripts/bench's
# (jx-bench): N projects x 8 steps (submit, dept_approve, finance_approve,
# release, flag, resume, close, self_evaluate), in the same order (every
# project's step 1, then every project's step 2, ...).  For each transition
# the script rewrites that project's state file, projects/ID.json (about
# 1.5 KB of JSON naming the step, the state, the actor and the date, so the
# content changes), and makes exactly one commit of it:
#   - submit (the file is new): `git add` + `git commit` (two processes;
#     `git commit PATH` refuses an untracked path);
#   - every later step: `git commit -a` (one process).  Of `git add` +
#     `git commit`, `git commit --only PATH` and `git commit -a`, the last
#     was the fastest (one run, N=100: 176/s, 243/s and 288/s); only the
#     one changed file is modified, so each commit holds exactly that
#     transition.
# Only the loop is timed (date +%s.%N around it), not `git init` or the
# configuration.  Afterwards the commits on HEAD are counted and must be 8N.
#
# Why the comparison is fair (and which way it leans):
# - The peer is favoured: all projects are on one branch (master) in one
#   repository, where jixiao chains each project on its own ref
#   (refs/jx/projects/ID); git's default configuration (kept here: global and
#   system configuration are ignored, no fsync option is set) does not fsync
#   loose objects, refs or the index, where jixiao fsyncs a pack, its seal
#   ref and packed-refs per batch; automatic gc/maintenance is turned off
#   (gc.auto=0), so nothing is ever packed, and no hooks or signing run; no
#   roles or rules are checked.  Each commit writes 4 loose objects (state
#   blob, projects/ tree, root tree, commit; jixiao: state blob, event blob,
#   tree, commit, plus a seal commit per batch).
# - The peer is handicapped in one way: with all projects in one directory,
#   every commit rewrites the projects/ tree (about 49 bytes per project:
#   49 KB at N=1,000, 8,000 such trees = ~300 MB of loose objects) and the
#   index (96 KB at N=1,000), so its cost per commit grows with N (about
#   7 ms per `git commit -a` at N=1,000); and each transition starts one or
#   two git processes.
# The rate is per transition, so a smaller N still gives a comparable ratio
# (mind the growth with N above).  Measured on the shared 2-core machine
# (load 2-3.5): N=100 in 4-7 s (120-200/s), N=1,000 in 62-85 s (94-130/s).
#
# Output: ONE final line:
#   peer git-cli: projects=N transitions=T seconds=S rate=R
# (R = T / S, transitions per second).  The repository is left in
# OUTDIR/git-cli-repo.
set -eu

prog=peer_git_cli.sh
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $prog N OUTDIR"
N=$1
case $N in '' | *[!0-9]*) die "N must be a positive integer, not '$N'" ;; esac
[ "$N" -ge 1 ] || die "N must be at least 1"
command -v git >/dev/null 2>&1 || die "git not found (apt-get install git)"

mkdir -p "$2" || die "cannot create $2"
OUTDIR=$(cd "$2" && pwd)
repo=$OUTDIR/git-cli-repo

# git's defaults, whatever the caller's ~/.gitconfig or environment say.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CONFIG_PARAMETERS
GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL

rm -rf "$repo"
git init -q "$repo"
cd "$repo"
git config user.name "jixiao peer bench"
git config user.email "bench@example.invalid"
git config gc.auto 0
git config maintenance.auto false
git config commit.gpgSign false
mkdir -p .git/no-hooks projects
git config core.hooksPath .git/no-hooks

# The fixed part of a state (~1.3 KB): the project's performance indicators.
ind=
k=1
while [ $k -le 12 ]; do
  ind="$ind{\"code\":\"I-$k\",\"level\":\"output\",\"name\":\"indicator $k of the project\",\"target\":\">= 95%\",\"weight\":7},"
  k=$((k + 1))
done
ind="$ind{\"code\":\"I-13\",\"level\":\"outcome\",\"name\":\"satisfaction of the served\",\"target\":\">= 90%\",\"weight\":2}"

t0=$(date +%s.%N)
for step in submit dept_approve finance_approve release flag resume close self_evaluate; do
  case $step in
    submit) state=submitted actor=edu-school-1 day=2021-03-01 ;;
    dept_approve) state=dept_approved actor=edu-dept day=2021-03-02 ;;
    finance_approve) state=approved actor=fin-business day=2021-03-03 ;;
    release) state=released actor=fin-budget day=2021-03-04 ;;
    flag) state=flagged actor=edu-dept day=2021-03-05 ;;
    resume) state=monitoring actor=edu-dept day=2021-03-06 ;;
    close) state=closed actor=edu-dept day=2021-03-07 ;;
    self_evaluate) state=evaluated actor=edu-school-1 day=2021-03-08 ;;
  esac
  i=1
  while [ $i -le "$N" ]; do
    f=projects/HL2021-BENCH-$i.json
    # printf is a shell builtin: no process per state file.
    printf '{"id":"HL2021-BENCH-%s","department":"education","name":"benchmark project %s","budget":"project","amount":3000000,"state":"%s","last_event":{"event":"%s","actor":"%s","date":"%s"},"indicators":[%s]}\n' \
      "$i" "$i" "$state" "$step" "$actor" "$day" "$ind" >"$f"
    if [ $step = submit ]; then
      git add -- "$f"
      git commit -q -m "HL2021-BENCH-$i $step by $actor"
    else
      git commit -q -a -m "HL2021-BENCH-$i $step by $actor"
    fi
    i=$((i + 1))
  done
done
t1=$(date +%s.%N)

T=$(git rev-list --count HEAD)
[ "$T" -eq $((8 * N)) ] || die "expected $((8 * N)) commits, HEAD has $T"
echo "$N $T $t0 $t1" | awk '{ s = $4 - $3; printf "peer git-cli: projects=%d transitions=%d seconds=%.2f rate=%.0f\n", $1, $2, s, $2 / s }'
