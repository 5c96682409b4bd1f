#!/bin/sh
# gpu_check.sh — the GPU run of docs/gpu-profiling.md, as one script for a GPU machine:
# records the device (nvidia-smi, read-only), builds bench/gpu_gemm.c by hand against the
# CUDA headers (no libyaml or CMake needed: CUDA is dlopen()ed), times the standard set
# of p3cfg profile --compute into $OUT/gpu.csv with the report in $OUT/gpu_report.txt,
# then, where libyaml and cJSON are installed, builds the CLI with CMake and runs
# `p3cfg profile --compute` end to end on a small --model set and on the recorded table.
# Never changes the GPU's settings. Usage: OUT=dir sh bench/gpu_check.sh
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
CUDA=${CUDA_HOME:-/usr/local/cuda}
log() { echo "== $*" | tee -a "$OUT/check.log"; }

log "device"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem,power.limit,driver_version \
  --format=csv > "$OUT/nvidia-smi.csv" 2>&1
cat "$OUT/nvidia-smi.csv" | tee -a "$OUT/check.log"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
( "$CUDA/bin/nvcc" --version; cmake --version; gcc --version ) 2>&1 | grep -v '^$' >> "$OUT/check.log"

log "standalone build of bench/gpu_gemm.c"
SRC="src/gpu/gpu_cuda.c src/gpu/gpu_measure.c src/gpufit/gpu_profile.c src/gpufit/gpu_table.c
     src/gpufit/gpu_fit.c src/gpufit/gpu_report.c src/gpufit/gpu_measure_stub.c
     src/perf/compute_cost.c src/common/alloc.c src/common/error.c src/common/gpu_presets.c
     src/common/model_params.c src/common/result.c src/common/version.c"
gcc -std=c11 -O2 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -DP3CFG_BUILDING -DP3CFG_HAVE_CUDA \
  -DP3CFG_CUDA_LIBDIR="\"$CUDA/lib64\"" -Iinclude -Isrc/common -Isrc/perf -Isrc/gpufit \
  -Isrc/gpu -isystem "$CUDA/include" bench/gpu_gemm.c $SRC -o /tmp/gpu_gemm -ldl -lpthread -lm \
  >> "$OUT/check.log" 2>&1 || { log "standalone build FAILED"; exit 1; }

log "standard set (bench/gpu_gemm)"
start=$(date +%s)
timeout 180 /tmp/gpu_gemm --csv "$OUT/gpu.csv" > "$OUT/gpu_report.txt" 2> "$OUT/gpu_gemm.log"
log "gpu_gemm exit $? after $(( $(date +%s) - start )) s"
head -20 "$OUT/gpu_report.txt" | tee -a "$OUT/check.log"

log "no-device message"
CUDA_VISIBLE_DEVICES= /tmp/gpu_gemm --csv /dev/null >> "$OUT/check.log" 2>&1
log "exit $?"

if pkg-config --exists yaml-0.1 libcjson 2>/dev/null; then
  log "CMake build of the CLI"
  start=$(date +%s)
  cmake -S . -B /tmp/b -DP3CFG_BUILD_TESTS=OFF > "$OUT/cmake.log" 2>&1 &&
    timeout 90 cmake --build /tmp/b -j 16 --target p3cfg_cli >> "$OUT/cmake.log" 2>&1
  log "build exit $? after $(( $(date +%s) - start )) s"
  if [ -x /tmp/b/p3cfg ]; then
    start=$(date +%s)
    timeout 45 /tmp/b/p3cfg profile --compute --model models/llama3-70b.yaml --tp 8 \
      --tokens 4096 --csv "$OUT/cli.csv" -o "$OUT/cli.yaml" > "$OUT/cli.log" 2>&1
    log "profile --compute exit $? after $(( $(date +%s) - start )) s"
    /tmp/b/p3cfg profile --compute --from-csv "$OUT/gpu.csv" --shapes -o "$OUT/gpu.yaml" \
      >> "$OUT/cli.log" 2>&1
    log "profile --compute --from-csv exit $?"
    CUDA_VISIBLE_DEVICES= /tmp/b/p3cfg profile --compute >> "$OUT/cli.log" 2>&1
    log "no-device exit $?"
  fi
else
  log "no libyaml/cJSON development files: CLI not built"
fi
log "done"
