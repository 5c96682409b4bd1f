#!/usr/bin/env bash
# run_fault.sh — a rank dies (kill: SIGKILL) or stalls (stall: SIGSTOP) in the middle of
# a profile of 4 ranks. Every rank must end, mpirun must exit non-zero well within the
# timeout, the output file must not exist, and stderr must say what happened.
# usage: run_fault.sh P3CFG kill|stall
set -u
P3CFG=$1 KIND=$2
. "$(dirname "$0")/mpi_common.sh"
WORK=$(mktemp -d /tmp/p3cfg-mpi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mapfile -t ARGS < <(mpirun_args vader 4)
TIMEOUT=4

# Enough repetitions that the profile runs past the fault (2.5 s after MPI_Init).
T0=$(date +%s)
timeout 60 mpirun "${ARGS[@]}" -x P3CFG_TEST_FAULT="$KIND:2:1.5" "$P3CFG" profile \
  -o "$WORK/cluster.yaml" --gpu h100-sxm --timeout $TIMEOUT --reps 100 \
  --latency-reps 1000 >"$WORK/out" 2>"$WORK/err"
rc=$?
elapsed=$(($(date +%s) - T0))
echo "mpirun exited $rc after $elapsed s"
cat "$WORK/err"
[ $rc -ne 0 ] || fail "exit 0 although rank 2 was hit ($KIND)"
[ $rc -ne 124 ] || fail "the job hung until the test's own timeout"
[ $elapsed -le $((TIMEOUT * 3 + 10)) ] || fail "took $elapsed s (timeout $TIMEOUT s)"
[ ! -e "$WORK/cluster.yaml" ] || fail "a cluster file was written"
if ls "$WORK"/cluster.yaml.tmp* >/dev/null 2>&1; then fail "a temporary file was left"; fi
case "$KIND" in
  kill) grep -q "exited on signal 9\|no answer from rank 2\|did not complete" "$WORK/err" ||
    fail "no message about the dead rank" ;;
  # A stalled rank also stalls the rank it is measuring with: whichever of the two the
  # waiting rank asks first is the one named (under a sanitizer on a busy machine, rank 0
  # has been seen to ask rank 3, which was waiting on the stopped rank 2).
  stall) grep -q "no answer from rank [1-3] within $TIMEOUT s\|did not complete within $TIMEOUT s" \
    "$WORK/err" || fail "no message about the stalled rank" ;;
esac
echo "PASS"
