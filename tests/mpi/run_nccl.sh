#!/usr/bin/env bash
# run_nccl.sh — `p3cfg profile --backend nccl` where it cannot measure (this machine has
# no GPU or driver; or the build has no NCCL): every rank stops within seconds with one
# clear line and exit 1, no rank is aborted, no file is written; one rank is no usage
# error for this backend; a rank whose checks pass still stops with the others (their
# failure is agreed before any collective NCCL call); a bad backend name is a usage
# error. On a machine with a GPU the test is skipped (bench/gpu_nccl_check.sh runs there).
# usage: run_nccl.sh P3CFG
set -u
P3CFG=$1
. "$(dirname "$0")/mpi_common.sh"
if nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: this machine has a GPU"
  exit 77
fi
WORK=$(mktemp -d /tmp/p3cfg-nccl.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mapfile -t ARGS2 < <(mpirun_args vader 2)
mapfile -t ARGS1 < <(mpirun_args vader 1)
REASON='--backend nccl: \(not built in\|cannot load lib\|no NVIDIA driver\|no CUDA device\)'

# expect EXIT PATTERN COMMAND...: the exit code, the pattern on stderr exactly once
# (rank 0 prints an agreed failure), no abort, and within 20 s.
expect() {
  local want=$1 pattern=$2
  shift 2
  local t0 took count
  t0=$(date +%s%N)
  timeout 60 "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  count=$(grep -c -- "$pattern" "$WORK/err")
  if [ $rc -ne "$want" ] || [ "$count" -ne 1 ] || grep -qi 'MPI_ABORT' "$WORK/err" ||
    [ "$took" -gt 20000 ]; then
    cat "$WORK/err"
    fail "expected exit $want and '$pattern' once within 20 s, got exit $rc, $count times, $took ms: $*"
  fi
  echo "ok: exit $rc in $took ms: $(grep -- "$pattern" "$WORK/err")"
}

# Two ranks, no --gpu: the backend's checks come before the GPU type is looked up.
expect 1 "^p3cfg: $REASON" mpirun "${ARGS2[@]}" "$P3CFG" profile --backend nccl \
  -o "$WORK/a.yaml"
[ ! -e "$WORK/a.yaml" ] || fail "a file was written"
[ ! -s "$WORK/out" ] || fail "something was written on stdout"

# One rank is enough for this backend: the same reason, not "needs at least 2 ranks".
expect 1 "^p3cfg: $REASON" mpirun "${ARGS1[@]}" "$P3CFG" profile --backend nccl \
  --gpu h100-sxm -o "$WORK/b.yaml"
[ ! -e "$WORK/b.yaml" ] || fail "a file was written"

# Only rank 1 fails its checks: rank 0 stops too, with rank 1's reason.
if ! grep -q "not built in" "$WORK/err"; then
  P3CFG_TEST_NCCL_PROBE=pass:0 expect 1 "(rank 1 on .*; 1 of 2 ranks failed)" \
    mpirun "${ARGS2[@]}" -x P3CFG_TEST_NCCL_PROBE "$P3CFG" profile --backend nccl \
    --gpu h100-sxm -q -o "$WORK/c.yaml"
  [ ! -e "$WORK/c.yaml" ] || fail "a file was written"
  # Every rank passing its checks still stops at the device set-up, agreed again.
  P3CFG_TEST_NCCL_PROBE=pass:0 expect 1 "^p3cfg: $REASON" \
    mpirun "${ARGS1[@]}" -x P3CFG_TEST_NCCL_PROBE "$P3CFG" profile --backend nccl \
    --gpu h100-sxm -q
fi

# A backend that does not exist is a usage error, before MPI starts.
timeout 30 "$P3CFG" profile --backend gloo >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ $rc -ne 2 ] || ! grep -q -- '--backend must be mpi or nccl, got "gloo"' "$WORK/err"; then
  cat "$WORK/err"
  fail "--backend gloo: exit $rc"
fi
echo "ok: --backend gloo is a usage error"
echo "PASS"
