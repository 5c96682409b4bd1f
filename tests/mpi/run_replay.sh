#!/usr/bin/env bash
# run_replay.sh — `p3cfg replay` under mpirun on this machine (one host, 4 ranks, shared
# memory): profile, place plans of the small model of tests/emu/tiny-8l.yaml on the
# profiled cluster, replay them. Checks that every component the plan has is measured
# and predicted (tp 2 x pp 2 with a tied embedding; dp 2 with the distributed optimizer;
# tp 2 x dp 2 without a pipeline, ZeRO 2; an interleaved pipeline with its wrap-around
# hop), the table and the JSON agree, and the refusals: a world of the wrong size, a
# model or cluster the plan was not made from, ranks given different inputs (scale,
# iterations, a placement that predicts the same times), a missing option, a plan number
# out of range, a scale that makes GPT-3's messages too large, a broken plan file (on
# every rank, on one), a rank that dies or stops mid-replay.
# Timing on two shared cores is not what is tested here (tests/emu checks accuracy).
# usage: run_replay.sh P3CFG
set -u
P3CFG=$1
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/../emu/tiny-8l.yaml
. "$HERE/mpi_common.sh"
WORK=$(mktemp -d /tmp/p3cfg-mpi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mapfile -t ARGS < <(mpirun_args vader 4)
mapfile -t ARGS3 < <(mpirun_args vader 3)
mapfile -t ARGS1 < <(mpirun_args vader 1)

timeout 120 mpirun "${ARGS[@]}" "$P3CFG" profile -o "$WORK/c.yaml" --gpu a100-80gb \
  --name one --reps 3 --max-size 1M -q >"$WORK/out" 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "profile failed"; }

# replay NAME ESTIMATE_OPTIONS...: estimate the plan, replay it as a table and as JSON.
replay() {
  local name=$1
  shift
  "$P3CFG" estimate "$MODEL" "$WORK/c.yaml" "$@" --format json -q -o "$WORK/$name.json" ||
    fail "$name: estimate failed"
  timeout 60 mpirun "${ARGS[@]}" "$P3CFG" replay "$WORK/$name.json" --model "$MODEL" \
    --cluster "$WORK/c.yaml" --scale 0.05 --iterations 2 >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  cat "$WORK/$name.out" "$WORK/$name.err"
  [ $rc -eq 0 ] || fail "$name: replay exited $rc"
  timeout 60 mpirun "${ARGS[@]}" "$P3CFG" replay "$WORK/$name.json" --model "$MODEL" \
    --cluster "$WORK/c.yaml" --scale 0.05 --iterations 2 --format json \
    >"$WORK/$name.replay.json" 2>"$WORK/$name.err" || fail "$name: replay --format json failed"
}

# check NAME PARTS...: the parts listed are measured and predicted (> 0), the others 0.
check() {
  python3 - "$WORK/$1.replay.json" "$@" <<'EOF' || fail "$1: replay JSON"
import json, sys
r = json.load(open(sys.argv[1]))
name, parts = sys.argv[2], sys.argv[3:]
assert r["ranks"] == 4 and r["hosts"] == 1 and r["hosts_by_name"] is True, r
for part in ("tp", "pp", "dp"):
    c = r["components"][part]
    if part in parts:
        assert c["measured_s"] > 0 and c["predicted_s"] > 0, (name, part, c)
    else:
        assert c["measured_s"] == 0 and c["predicted_s"] == 0, (name, part, c)
t = r["components"]["total"]
assert abs(t["predicted_s"] - sum(r["components"][p]["predicted_s"] for p in ("tp", "pp", "dp"))) < 1e-5 * t["predicted_s"] + 1e-12
assert r["min_total_s"] <= t["measured_s"] * 1.0001 and t["measured_s"] <= r["max_total_s"] * 1.0001
print(name, "ok:", {p: r["components"][p] for p in ("tp", "pp", "dp", "total")})
EOF
}

replay tp2pp2 --tp 2 --pp 2 --mbs 1
check tp2pp2 tp pp dp
grep -q "^  tp .*collectives inside each TP group (tp 2)" "$WORK/tp2pp2.out" ||
  fail "the table has no tp row"
grep -q "^  pp .*8 micro-batches x 1 hops x 2 directions" "$WORK/tp2pp2.out" ||
  fail "the table has no pp row"
grep -q "4 ranks on 1 host (matched to the plan's nodes by name)" "$WORK/tp2pp2.out" ||
  fail "the table does not say how ranks were matched"
replay dp2zero1 --tp 1 --pp 2 --dp 2 --zero 1 --mbs 1
check dp2zero1 pp dp
replay tp2dp2zero2 --tp 2 --pp 1 --dp 2 --zero 2 --mbs 1 --framework deepspeed # pp 1: no hop, no tie; ZeRO 2 is DeepSpeed's
check tp2dp2zero2 tp dp
replay interleaved --tp 1 --pp 4 --vpp 2 --mbs 1 --global-batch 8
check interleaved pp dp
grep -q "x 7 hops x 2 directions" "$WORK/interleaved.out" || fail "interleaved: not 7 hops"

# ---- refusals: clear message, non-zero exit, no hang --------------------------------------
expect() { # NAME EXIT PATTERN command...
  local name=$1 want=$2 pattern=$3
  shift 3
  timeout 60 "$@" >"$WORK/x.out" 2>"$WORK/x.err"
  local rc=$?
  [ $rc -eq "$want" ] || { cat "$WORK/x.err"; fail "$name: exit $rc, expected $want"; }
  grep -q -- "$pattern" "$WORK/x.err" || { cat "$WORK/x.err"; fail "$name: no message '$pattern'"; }
  [ "$(grep -c -- "$pattern" "$WORK/x.err")" -eq 1 ] || fail "$name: message printed more than once"
  echo "$name: exit $rc: $(grep -- "$pattern" "$WORK/x.err")"
}
PLAN=$WORK/tp2pp2.json
expect world 1 "the plan has 4 ranks .* but MPI runs 3: start exactly one rank per GPU" \
  mpirun "${ARGS3[@]}" "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml"
expect model 1 "plan 1 was made for model \"tiny-8l\" .* but --model .* is \"megatron-1.7b\"" \
  mpirun "${ARGS[@]}" "$P3CFG" replay "$PLAN" --model "$HERE/../../models/megatron-1.7b.yaml" \
  --cluster "$WORK/c.yaml"
expect cluster 1 "plan 1 was placed on cluster \"one\" (1 nodes x 4 GPUs" \
  mpirun "${ARGS[@]}" "$P3CFG" replay "$PLAN" --model "$MODEL" \
  --cluster "$HERE/../../clusters/dgx-a100-8n.yaml"
expect plan_no 1 "--plan 3, but the file has 1 plan$" \
  mpirun "${ARGS[@]}" "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" --plan 3
expect no_model 2 "replay: --model FILE and --cluster FILE are required" \
  "$P3CFG" replay "$PLAN" --cluster "$WORK/c.yaml"
expect bad_scale 2 "replay: --scale must be a positive number up to 1e+06, got \"-1\"" \
  "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" --scale -1
# GPT-3 175B at tp 8, pp 8, dp 16 (exit 3: it does not fit in memory; written all the
# same): x 1e6 would make its 11 GB gradient messages pass 2^53 bytes. Refused with the
# time model's reason, before the world size is looked at.
"$P3CFG" estimate "$HERE/../../models/gpt3-175b.yaml" "$HERE/../../clusters/dgx-a100-128n.yaml" \
  --tp 8 --pp 8 --mbs 1 --format json -q -o "$WORK/gpt3.json"
[ -s "$WORK/gpt3.json" ] || fail "gpt3: estimate wrote no plan"
expect huge_scale 1 "gpt3.json: plan 1: message scale 1e+06 makes a message larger than 2^53 bytes" \
  mpirun "${ARGS1[@]}" "$P3CFG" replay "$WORK/gpt3.json" --model "$HERE/../../models/gpt3-175b.yaml" \
  --cluster "$HERE/../../clusters/dgx-a100-128n.yaml" --scale 1e6
FLAGS=("${ARGS[@]:0:${#ARGS[@]}-2}") # without "-np 4": two programs, two ranks each
expect inputs_differ 1 "rank 2 was given a different plan, model, cluster or --scale than rank 0" \
  mpirun "${FLAGS[@]}" -np 2 "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" \
  : -np 2 "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" --scale 0.5
expect options_differ 1 "rank 2 was given --iterations 3 --warmup 1, rank 0 --iterations 2 --warmup 1" \
  mpirun "${FLAGS[@]}" -np 2 "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" \
  --iterations 2 --timeout 5 : -np 2 "$P3CFG" replay "$PLAN" --model "$MODEL" \
  --cluster "$WORK/c.yaml" --iterations 3 --timeout 5
# Two placements that predict the same times (uniform links): the ranks would map each
# other differently; refused at the start, not a timeout (or a hang in a split) later.
printf 'name: uniform\nnodes: 1\ngpus_per_node: 4\ngpu: a100-80gb\nnetwork:\n  intra_node_GBps: 300\n  inter_node_GBps: 25\n' \
  >"$WORK/u.yaml"
"$P3CFG" estimate "$MODEL" "$WORK/u.yaml" --tp 2 --pp 2 --mbs 1 --format json -q \
  -o "$WORK/u.json" || fail "uniform: estimate failed"
python3 - "$WORK/u.json" "$WORK/u-swapped.json" <<'EOF2' || fail "uniform: cannot swap GPUs"
import json, sys
d = json.load(open(sys.argv[1]))
plan = d["plans"][0] if "plans" in d else d
ranks = plan["placement"]["ranks"]
a = next(r for r in ranks if r["rank"] == 0)
b = next(r for r in ranks if r["rank"] == 1)
a["gpu"], b["gpu"] = b["gpu"], a["gpu"]
json.dump(d, open(sys.argv[2], "w"))
EOF2
expect placement_differs 1 "rank 2 was given a different plan, model, cluster or --scale than rank 0" \
  mpirun "${FLAGS[@]}" -np 2 "$P3CFG" replay "$WORK/u.json" --model "$MODEL" \
  --cluster "$WORK/u.yaml" --timeout 5 : -np 2 "$P3CFG" replay "$WORK/u-swapped.json" \
  --model "$MODEL" --cluster "$WORK/u.yaml" --timeout 5
echo '{"plans": [' >"$WORK/broken.json"
expect broken_plan 1 "^p3cfg: $WORK/broken.json:" \
  mpirun "${ARGS[@]}" "$P3CFG" replay "$WORK/broken.json" --model "$MODEL" --cluster "$WORK/c.yaml"
# ... on one host only: that rank says why, the others do not wait for it.
expect one_broken_plan 1 "^p3cfg: $WORK/broken.json:" \
  mpirun "${FLAGS[@]}" -np 3 "$P3CFG" replay "$PLAN" --model "$MODEL" --cluster "$WORK/c.yaml" \
  : -np 1 "$P3CFG" replay "$WORK/broken.json" --model "$MODEL" --cluster "$WORK/c.yaml"

# ---- a rank dies mid-replay: every rank ends well within the timeout ----------------------
T0=$(date +%s)
timeout 60 mpirun "${ARGS[@]}" -x P3CFG_TEST_FAULT="kill:2:1.5" "$P3CFG" replay "$PLAN" \
  --model "$MODEL" --cluster "$WORK/c.yaml" --iterations 10000 --timeout 4 \
  >"$WORK/out" 2>"$WORK/err"
rc=$?
elapsed=$(($(date +%s) - T0))
echo "killed rank: mpirun exited $rc after $elapsed s"
[ $rc -ne 0 ] || fail "exit 0 although rank 2 was killed"
[ $rc -ne 124 ] || fail "the job hung until the test's own timeout"
[ $elapsed -le 25 ] || fail "took $elapsed s (timeout 4 s)"
grep -q "exited on signal 9\|no answer from rank 2\|did not complete" "$WORK/err" ||
  { cat "$WORK/err"; fail "no message about the dead rank"; }
T0=$(date +%s)
timeout 60 mpirun "${ARGS[@]}" -x P3CFG_TEST_FAULT="stall:1:1.5" "$P3CFG" replay "$PLAN" \
  --model "$MODEL" --cluster "$WORK/c.yaml" --iterations 10000 --timeout 4 \
  >"$WORK/out" 2>"$WORK/err"
rc=$?
elapsed=$(($(date +%s) - T0))
echo "stalled rank: mpirun exited $rc after $elapsed s"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || { cat "$WORK/err"; fail "stalled rank: exit $rc"; }
# The stalled rank, or on a loaded machine a rank waiting on it (run_fault.sh), is named.
grep -q "no answer from rank [0-9]* within 4 s\|did not complete within 4 s" "$WORK/err" ||
  { cat "$WORK/err"; fail "no message about the stalled rank"; }
echo "PASS"
