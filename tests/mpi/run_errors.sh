#!/usr/bin/env bash
# run_errors.sh — the profiler's refusals, each fast, clear and without a file: no GPU
# type known, an existing output without --force, a rank running another p3cfg version,
# a single rank, bad option values (usage errors printed once); and --base taking the GPU
# and the name from a cluster file.
# usage: run_errors.sh P3CFG PROFILE_CHECK FAKE_VERSION SOURCE_DIR
set -u
P3CFG=$1 CHECK=$2 FAKE=$3 SRC=$4
. "$(dirname "$0")/mpi_common.sh"
WORK=$(mktemp -d /tmp/p3cfg-mpi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mapfile -t ARGS2 < <(mpirun_args vader 2)

expect() { # EXIT_CODE PATTERN COMMAND... (an empty PATTERN checks the exit code only)
  local want=$1 pattern=$2
  shift 2
  timeout 60 "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ $rc -ne "$want" ] || { [ -n "$pattern" ] && ! grep -q -- "$pattern" "$WORK/err"; }; then
    cat "$WORK/err"
    fail "expected exit $want and '$pattern', got exit $rc: $*"
  fi
  echo "ok: exit $rc, '$pattern'"
}

# This machine has no GPU: without --gpu or --base the type is unknown.
if ! lspci 2>/dev/null | grep -qi nvidia; then
  expect 1 "pass --gpu NAME or --base CLUSTER" \
    mpirun "${ARGS2[@]}" "$P3CFG" profile -o "$WORK/a.yaml"
  [ ! -e "$WORK/a.yaml" ] || fail "a file was written without a GPU type"
fi
expect 1 "is not a known GPU" mpirun "${ARGS2[@]}" "$P3CFG" profile --gpu x100 -q

# --base: the GPU, the name and the inter-node figures (one host) come from it.
expect 0 "" mpirun "${ARGS2[@]}" "$P3CFG" profile -q -o "$WORK/b.yaml" \
  --base "$SRC/clusters/dgx-h100-1n.yaml"
grep -q '^name: "dgx-h100-1n"$' "$WORK/b.yaml" || fail "--base: name not taken"
grep -q '^gpu: h100-sxm$' "$WORK/b.yaml" || fail "--base: gpu not taken"
"$CHECK" "$WORK/b.yaml" --gpus 2 --nodes 1 || fail "--base: the file does not load"

# An existing file is refused before any measurement, and left as it was.
cp "$WORK/b.yaml" "$WORK/b.orig"
expect 1 "already exists (use --force" mpirun "${ARGS2[@]}" "$P3CFG" profile -q \
  -o "$WORK/b.yaml" --gpu h100-sxm
cmp -s "$WORK/b.yaml" "$WORK/b.orig" || fail "the existing file was changed"
expect 0 "" mpirun "${ARGS2[@]}" "$P3CFG" profile -q -o "$WORK/b.yaml" --gpu a100-80gb \
  --force
grep -q '^gpu: a100-80gb$' "$WORK/b.yaml" || fail "--force did not replace the file"

# A device node: refused without --force (saying so), written into with it, and the node
# stays (issue 17: --force was refused with "use --force"). A FIFO nothing reads is an
# error, not a hang. The CLI's one writer (cli/cli_output.c) does all of it.
expect 1 "is a character device, not a regular file (use --force" mpirun "${ARGS2[@]}" \
  "$P3CFG" profile -q -o /dev/null --gpu h100-sxm
expect 0 "" mpirun "${ARGS2[@]}" "$P3CFG" profile -q -o /dev/null --gpu h100-sxm --force
[ -c /dev/null ] || fail "/dev/null is no longer a device"
mkfifo "$WORK/fifo"
expect 1 "is a FIFO that nothing reads" mpirun "${ARGS2[@]}" "$P3CFG" profile -q \
  -o "$WORK/fifo" --gpu h100-sxm --force
expect 2 "--output needs a file name" mpirun "${ARGS2[@]}" "$P3CFG" profile -q -o "" \
  --gpu h100-sxm

# A rank with another p3cfg version (MPMD: one real rank, one fake).
expect 1 "p3cfg versions differ across ranks" \
  mpirun "${ARGS2[@]:0:${#ARGS2[@]}-2}" -np 1 "$P3CFG" profile -q --gpu h100-sxm \
  -o "$WORK/v.yaml" : -np 1 "$FAKE"
[ ! -e "$WORK/v.yaml" ] || fail "a file was written despite the version mismatch"

# One rank: nothing to measure (usage error).
expect 2 "needs at least 2 ranks" mpirun "${ARGS2[@]:0:${#ARGS2[@]}-2}" -np 1 "$P3CFG" \
  profile --gpu h100-sxm
# Bad option values: usage errors (exit 2) before MPI starts, printed by rank 0 only.
expect 2 "--granularity must be gpu, node or auto, got \"cell\"" \
  mpirun "${ARGS2[@]}" "$P3CFG" profile --granularity cell
expect 2 "--timeout must be a positive number of seconds up to 1e+07, got \"0\"" \
  mpirun "${ARGS2[@]}" "$P3CFG" profile --gpu h100-sxm --timeout 0
expect 2 "--backend must be mpi or nccl, got \"gloo\"" \
  mpirun "${ARGS2[@]}" "$P3CFG" profile --backend gloo
[ "$(grep -c "backend must be" "$WORK/err")" -eq 1 ] || fail "the usage error was printed more than once"
echo "PASS"
