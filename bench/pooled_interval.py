#!/usr/bin/env python3
"""pooled_interval.py - the 80 % prediction interval of a dense plan's step time
(src/common/uncertainty.h, P3CFG__TIME_RATIO_P10/P90; docs/time-model.md section 9), or with
--moe of a mixture-of-experts plan's (P3CFG__TIME_MOE_RATIO_P10/P90), from
every out-of-sample prediction the benches make of a published dense run on a GPU whose
constants were fitted:

  bench_time_accuracy --ratios   the calibration sources, each predicted with the
                                 constants fitted without it (leave-one-source-out);
  bench_cp_accuracy --ratios     NeMo's long-sequence sweep (Llama 2 7B FP8, H100), which
                                 no constant was fitted on;
  bench_fp8_ratio --ratios       the published FP8 runs on DGX H100 (Megatron-Bridge,
                                 NeMo 24.07), which no constant was fitted on.

--moe pools instead every MoE prediction, none of them fitted on:

  bench_moe_accuracy --ratios        Megatron-Bridge's published MoE runs (Qwen3-30B-A3B,
                                     GPT-OSS-120B; H100, B200, GB200, GB300);
  bench_modelzoo_accuracy --ratios   Megatron-Core's Qwen3-235B-A22B runs on 256 H100
                                     (five plans and a context-parallel sweep);
  bench_cards_accuracy --ratios      mid-2026 runs with their exact recipes (Megatron-Bridge's
                                     verification cards, Megatron-LM pull request 5728).

Each line `ratio SOURCE VALUE` is one run's measured / predicted step time. Prints the
10th and 90th percentiles per source and pooled (the same rank rule as
bench_time_accuracy: sorted, p10 at floor(0.1 (n-1)), p90 at ceil(0.9 (n-1))).

    python3 bench/pooled_interval.py [--build build] [--moe]
"""
import argparse
import math
import os
import subprocess
import sys

BENCHES = ["bench_time_accuracy", "bench_cp_accuracy", "bench_fp8_ratio"]
MOE_BENCHES = ["bench_moe_accuracy", "bench_modelzoo_accuracy", "bench_cards_accuracy"]


def percentiles(values):
    v = sorted(values)
    return v[math.floor(0.1 * (len(v) - 1))], v[math.ceil(0.9 * (len(v) - 1))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="the build folder (default build)")
    ap.add_argument("--moe", action="store_true", help="the mixture-of-experts interval")
    args = ap.parse_args(argv)
    by_source = {}
    for bench in MOE_BENCHES if args.moe else BENCHES:
        exe = os.path.join(args.build, bench)
        try:
            out = subprocess.run([exe, "--ratios"], check=True, capture_output=True,
                                 text=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"pooled_interval: {exe}: {e}", file=sys.stderr)
            return 1
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ratio":
                by_source.setdefault(parts[1], []).append(float(parts[2]))
    if not by_source:
        print("pooled_interval: no ratios", file=sys.stderr)
        return 1
    print(f"{'source':36} {'runs':>4} {'p10':>7} {'p90':>7} {'min':>7} {'max':>7}")
    pooled = []
    for source, values in by_source.items():
        lo, hi = percentiles(values)
        print(f"{source:36} {len(values):4d} {lo:7.3f} {hi:7.3f} {min(values):7.3f} "
              f"{max(values):7.3f}")
        pooled += values
    lo, hi = percentiles(pooled)
    inside = sum(lo <= x <= hi for x in pooled)
    print(f"{'pooled':36} {len(pooled):4d} {lo:7.3f} {hi:7.3f}   "
          f"{inside} of {len(pooled)} inside, width {100 * (hi - lo):.1f} % of the point")
    return 0


if __name__ == "__main__":
    sys.exit(main())
