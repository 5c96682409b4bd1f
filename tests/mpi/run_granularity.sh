#!/usr/bin/env bash
# run_granularity.sh — `p3cfg profile --granularity node` on 4 ranks posing as 2 hosts
# (test hook P3CFG_TEST_RANKS_PER_HOST=2: consecutive ranks form a host, named like this
# machine and "-1"): the file must hold a 2 x 2 node matrix that loads, the summary must
# see 2 hosts, and a replay of a plan whose data-parallel ring spans both "hosts" (the
# hierarchical ring: inside each host, then across) must run on it, matching ranks to
# nodes by the same names. `--granularity gpu` on the same hosts gives the 4 x 4 matrix.
# Hosts whose names are not the plan's nodes are matched by order; one host of 4 ranks
# for a plan of 2 nodes x 2 GPUs is refused with the rank that has no GPU.
# usage: run_granularity.sh P3CFG PROFILE_CHECK
set -u
P3CFG=$1 CHECK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/../emu/tiny-8l.yaml
. "$HERE/mpi_common.sh"
WORK=$(mktemp -d /tmp/p3cfg-mpi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mapfile -t ARGS < <(mpirun_args vader 4)
FAKE=(-x P3CFG_TEST_RANKS_PER_HOST=2)

for gran in node gpu; do
  timeout 120 mpirun "${ARGS[@]}" "${FAKE[@]}" "$P3CFG" profile -o "$WORK/$gran.yaml" \
    --gpu a100-80gb --name two --reps 3 --max-size 1M --granularity $gran \
    >"$WORK/out" 2>"$WORK/err"
  rc=$?
  cat "$WORK/err"
  [ $rc -eq 0 ] || fail "profile --granularity $gran exited $rc"
  grep -q "^p3cfg profile: 4 ranks on 2 hosts (2 per host)" "$WORK/err" ||
    fail "the summary does not describe 2 hosts"
done
"$CHECK" "$WORK/node.yaml" --gpus 4 --nodes 2 --node-granularity ||
  fail "node granularity: the file is not a loadable 2 x 2 node matrix"
grep -q "^  granularity: node$" "$WORK/node.yaml" || fail "no 'granularity: node'"
grep -q "^# node): each entry is the median of the GPU pairs" "$WORK/node.yaml" ||
  fail "the file does not say what a node entry is"
"$CHECK" "$WORK/gpu.yaml" --gpus 4 --nodes 2 || fail "gpu granularity: not a 4 x 4 matrix"

"$P3CFG" estimate "$MODEL" "$WORK/node.yaml" --tp 1 --pp 1 --dp 4 --mbs 1 --format json -q \
  -o "$WORK/dp4.json" || fail "estimate on the node-granularity file failed"
timeout 60 mpirun "${ARGS[@]}" "${FAKE[@]}" "$P3CFG" replay "$WORK/dp4.json" --model "$MODEL" \
  --cluster "$WORK/node.yaml" --scale 0.05 --iterations 2 >"$WORK/replay" 2>&1 ||
  { cat "$WORK/replay"; fail "replay on two posed hosts failed"; }
cat "$WORK/replay"
grep -q "4 ranks on 2 hosts (matched to the plan's nodes by name)" "$WORK/replay" ||
  fail "replay did not match the posed hosts to the nodes by name"
grep -Eq "^  dp +0\.[0-9]*[1-9]" "$WORK/replay" || fail "replay measured no data-parallel time"

# Hosts named otherwise than the plan's nodes take them in order (and say so).
sed 's/names: \["[^"]*", "[^"]*"\]/names: ["alpha", "beta"]/' "$WORK/node.yaml" >"$WORK/renamed.yaml"
grep -q 'names: \["alpha", "beta"\]' "$WORK/renamed.yaml" || fail "could not rename the nodes"
"$P3CFG" estimate "$MODEL" "$WORK/renamed.yaml" --tp 2 --pp 2 --mbs 1 --format json -q \
  -o "$WORK/renamed.json" || fail "estimate on the renamed cluster failed"
timeout 60 mpirun "${ARGS[@]}" "${FAKE[@]}" "$P3CFG" replay "$WORK/renamed.json" \
  --model "$MODEL" --cluster "$WORK/renamed.yaml" --scale 0.05 --iterations 2 \
  >"$WORK/replay" 2>&1 || { cat "$WORK/replay"; fail "replay by host order failed"; }
grep -q "4 ranks on 2 hosts (matched to the plan's nodes by order)" "$WORK/replay" ||
  { cat "$WORK/replay"; fail "replay did not say it matched hosts by order"; }

# The same plan on one real host of 4 ranks: ranks 2 and 3 have no GPU in the plan.
timeout 60 mpirun "${ARGS[@]}" "$P3CFG" replay "$WORK/dp4.json" --model "$MODEL" \
  --cluster "$WORK/node.yaml" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/err"
[ $rc -eq 1 ] || fail "one host for a 2-node plan: exit $rc, expected 1"
grep -q "as its local rank 2, but the plan puts no rank on GPU 2 of that node" "$WORK/err" ||
  fail "one host for a 2-node plan: no clear message"
echo "PASS"
