#!/usr/bin/env bash
# profile_time.sh — how long `p3cfg profile` takes against the number of ranks.
#
# Runs the profiler on this machine with 2, 4 and 8 ranks (shared memory, default
# options and mode; override with RANKS="2 4 8 16" and REPEATS=N), REPEATS times each,
# and prints the median of the profile's own wall time (rank 0, start-up exchange to
# the gathered matrix) and of the whole mpirun, with the circle-method rounds and the
# steps they were split into. It then projects larger clusters: the same schedule
# (pair_schedule.c, re-implemented below) gives the steps for N ranks at 8 per host,
# and a step costs what one pair's measurement costs on the links (docs/profiling.md
# derives ~20 ms for HDR InfiniBand / NVLink with the default options).
#
# usage: bench/profile_time.sh [BUILD_DIR]      (default: build)
set -eu
BUILD=${1:-build}
P3CFG="$BUILD/p3cfg"
[ -x "$P3CFG" ] || { echo "no $P3CFG: build first (cmake --build $BUILD)"; exit 1; }
RANKS=${RANKS:-"2 4 8"}
REPEATS=${REPEATS:-3}
STEP_S=${STEP_S:-0.020}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d /tmp/p3cfg-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(uname -srm), $(nproc) CPUs, $cpu, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MPI: $(mpirun --version 2>/dev/null | head -1); p3cfg $("$P3CFG" --version | cut -d' ' -f2)"
echo "ranks oversubscribe the cores here: times are for this machine's shared memory, not a cluster"
echo
printf '%6s %7s %6s %12s %12s %14s\n' ranks rounds steps profile_s mpirun_s per_step_ms
for np in $RANKS; do
  profile=() total=()
  for _ in $(seq "$REPEATS"); do
    t0=$(date +%s.%N)
    mpirun --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 \
      --mca btl_vader_single_copy_mechanism none -np "$np" \
      "$P3CFG" profile --gpu h100-sxm -o "$WORK/c.yaml" --force 2>"$WORK/err" >/dev/null
    t1=$(date +%s.%N)
    line=$(grep '^p3cfg profile:' "$WORK/err")
    profile+=("$(echo "$line" | sed 's/.*, \([0-9.]*\) s$/\1/')")
    total+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    rounds=$(echo "$line" | sed 's/.* \([0-9]*\) rounds\? in.*/\1/')
    steps=$(echo "$line" | sed 's/.* in \([0-9]*\) steps\?.*/\1/')
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  p=$(med "${profile[@]}")
  t=$(med "${total[@]}")
  printf '%6s %7s %6s %12s %12s %14.1f\n' "$np" "$rounds" "$steps" "$p" "$t" \
    "$(awk -v p="$p" -v s="$steps" 'BEGIN { print 1000 * p / s }')"
done

echo
echo "projection (8 ranks per host, ${STEP_S} s per step; STEP_S=... to change):"
python3 - "$STEP_S" <<'EOF'
import sys

step_s = float(sys.argv[1])

def rounds(n):
    m = n if n % 2 == 0 else n + 1
    for r in range(m - 1):
        pairs = []
        for i in range(m // 2):
            if i == 0:
                a, b = m - 1, r % (m - 1)
            else:
                a, b = (r + i) % (m - 1), (r + m - 1 - i) % (m - 1)
            if a < n and b < n:
                pairs.append((min(a, b), max(a, b)))
        yield pairs

def host_disjoint_steps(pairs, host):
    steps, left = 0, list(pairs)
    while left:
        used, rest = set(), []
        for a, b in left:
            if host(a) in used or host(b) in used:
                rest.append((a, b))
            else:
                used.update((host(a), host(b)))
        left, steps = rest, steps + 1
    return steps

print("%6s %7s %16s %12s %14s %12s"
      % ("ranks", "rounds", "steps(default)", "default", "concurrent", "serial"))
for n in (8, 64, 256, 1024):
    host = lambda r: r // 8  # mpirun --map-by ppr:8:node: ranks 0-7 on the first host
    rs = list(rounds(n))
    steps = sum(host_disjoint_steps(p, host) for p in rs)
    serial = n * (n - 1) // 2
    fmt = lambda s: "%.0f s" % s if s < 3600 else "%.1f h" % (s / 3600)
    print("%6d %7d %16d %12s %14s %12s" % (n, len(rs), steps, fmt(steps * step_s),
                                           fmt(len(rs) * step_s), fmt(serial * step_s)))
EOF
