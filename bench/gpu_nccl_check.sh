#!/usr/bin/env bash
# gpu_nccl_check.sh — the NCCL link backend (`p3cfg profile --backend nccl`,
# docs/gpu-profiling.md) on a GPU machine, as one script. Never changes the GPU's settings.
#
# Here, first (a machine with CUDA's toolkit, nccl.h, hwloc, libyaml and cJSON, and a
# CMake build of p3cfg with CUDA in build-nccl):
#   bash bench/gpu_nccl_check.sh --prepare
# builds build-nccl/device/: the profiler with its NCCL backend linked against a
# single-process MPI (tests/profile/mpi_single) into `nccl_single`, with the libraries it
# needs, so that the GPU machine needs no MPI, hwloc, libyaml or cJSON.
#
# There (carry build-nccl/device):
#   OUT=dir bash bench/gpu_nccl_check.sh
# 1. records the device, finds NCCL (the toolkit's, or the nvidia-nccl Python package's);
# 2. runs the whole NCCL path of one rank with the prebuilt nccl_single: loading, device
#    set-up, communicators, the GPU's send/recv to itself (ping-pongs and the size
#    sweep), the all-reduce of one rank, the summary and the cluster file (loaded by
#    p3cfg's parser); then what it says without a visible device, and without libnccl
#    on the loader's path;
# 3. where mpicc, hwloc, libyaml and cJSON are installed, builds the real CLI with CMake
#    and runs `p3cfg profile --backend nccl` with one rank (mpirun -np 1), and two ranks
#    on the one GPU, which NCCL refuses (a duplicate GPU): a clear error, no hang;
# 4. with GPU_CHECK=1, also bench/gpu_check.sh (the compute profile) into $OUT/compute.
# What comes back is few files (the device tool returns at most 8): $OUT/check.log holds
# every step's output; the cluster files written are beside it.
set -u
CUDA=${CUDA_HOME:-/usr/local/cuda}
DEV=build-nccl/device

prepare() {
  local B=build-nccl
  [ -f "$B/lib/libp3cfg.so.0" ] || { echo "build $B first (cmake with CUDA)"; return 1; }
  rm -rf "$DEV" && mkdir -p "$DEV/lib"
  local flags=(-std=c11 -O2 -g -Wall -Wextra -Werror -fPIC -D_POSIX_C_SOURCE=200809L
    -Itests/profile/mpi_single -Iinclude)
  gcc "${flags[@]}" -shared -Wl,-soname,libmpi_single.so tests/profile/mpi_single/mpi_single.c \
    -o "$DEV/lib/libmpi_single.so" || return 1
  # The profiler's sources, without replay (a separate command with its own MPI needs).
  local src=()
  for f in src/profile/*.c; do
    case "$f" in */replay*) ;; *) src+=("$f") ;; esac
  done
  local hwloc
  read -r -a hwloc <<<"$(pkg-config --libs hwloc)"
  gcc "${flags[@]}" -fvisibility=hidden -shared -DP3CFG_BUILDING -DP3CFG_HAVE_NCCL \
    -DP3CFG_CUDA_LIBDIR="\"$CUDA/lib64\"" -Isrc/profile -Isrc/common -isystem "$CUDA/include" \
    "${src[@]}" src/common/*.c \
    -Wl,-soname,libp3cfg_mpi.so.0 -Wl,--version-script=src/profile/p3cfg_mpi.map \
    -o "$DEV/lib/libp3cfg_mpi.so.0" -L"$DEV/lib" -lmpi_single -L"$B/lib" -lp3cfg \
    "${hwloc[@]}" -ldl -lpthread -lm || return 1
  gcc "${flags[@]}" tests/profile/nccl_single.c -o "$DEV/nccl_single" -L"$DEV/lib" \
    -l:libp3cfg_mpi.so.0 -lmpi_single -L"$B/lib" -lp3cfg -Wl,-rpath,"\$ORIGIN/lib" || return 1
  cp -L "$B/lib/libp3cfg.so.0" "$DEV/lib/"
  # The libraries of this machine that the GPU machine may lack.
  LD_LIBRARY_PATH="$DEV/lib:$B/lib" ldd "$DEV/nccl_single" |
    awk '/libyaml|libcjson|libhwloc|libudev/ {print $3}' | xargs -r -I{} cp -L {} "$DEV/lib/"
  ls -l "$DEV" "$DEV/lib"
  du -sh "$DEV"
}

if [ "${1:-}" = --prepare ]; then
  prepare
  exit $?
fi

OUT=${OUT:-/tmp/gpu_nccl_check}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/gpu_nccl.XXXXXX)
log() { echo "== $*" | tee -a "$OUT/check.log"; }
# run NAME TIMEOUT COMMAND...: stdout and stderr into $T/NAME.{out,log}; the exit code,
# the time and the stderr (summary, errors) into check.log.
run() {
  local name=$1 limit=$2
  shift 2
  local t0
  t0=$(date +%s.%N)
  timeout "$limit" "$@" >"$T/$name.out" 2>"$T/$name.log"
  local rc=$?
  log "$name: exit $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
  head -c 8000 "$T/$name.log" | tee -a "$OUT/check.log"
  return $rc
}

log "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 |
  tee "$T/nvidia-smi.csv" | tee -a "$OUT/check.log"
name=$(head -1 "$T/nvidia-smi.csv")
case "$name" in
  *H200*) GPU=h200 ;;
  *H100*PCIe*) GPU=h100-pcie ;;
  *) GPU=h100-sxm ;;
esac
log "gpu preset: $GPU"

log "NCCL"
NCCL_LIB=
if [ -f "$CUDA/include/nccl.h" ] && [ -e "$CUDA/lib64/libnccl.so.2" ]; then
  NCCL_LIB="$CUDA/lib64"
  log "toolkit's: $CUDA/include/nccl.h $(grep -m3 -E 'define NCCL_(MAJOR|MINOR|PATCH)' "$CUDA/include/nccl.h" | awk '{printf "%s ", $3}')"
else
  dir=$(python3 -c 'import nvidia.nccl, os; print(list(nvidia.nccl.__path__)[0])' 2>/dev/null)
  if [ -n "$dir" ] && [ -e "$dir/lib/libnccl.so.2" ]; then
    export NCCL_HOME=$dir
    NCCL_LIB="$dir/lib"
    log "nvidia-nccl package: $dir"
  else
    log "no libnccl.so.2 found in $CUDA/lib64 nor the nvidia-nccl package"
  fi
fi
BASE_LD=${LD_LIBRARY_PATH:-}

if [ -x "$DEV/nccl_single" ]; then
  log "one rank, prebuilt (single-process MPI): send/recv to itself, all-reduce of one"
  export LD_LIBRARY_PATH="$DEV/lib${NCCL_LIB:+:$NCCL_LIB}${BASE_LD:+:$BASE_LD}"
  run single 100 "$DEV/nccl_single" "$GPU" "$OUT/single.yaml"
  grep -E '^(# measured with|  intra_node|    - )' "$T/single.out" | head -8 |
    tee -a "$OUT/check.log"
  log "no visible device"
  CUDA_VISIBLE_DEVICES='' run nodevice 30 "$DEV/nccl_single" "$GPU"
  log "libnccl.so.2 not on the loader's path (found anyway where the toolkit has it)"
  env -u NCCL_HOME LD_LIBRARY_PATH="$DEV/lib" CUDA_HOME=/nonexistent \
    timeout 40 "$DEV/nccl_single" "$GPU" >"$T/nolib.out" 2>"$T/nolib.log"
  log "nolib: exit $?: $(grep -m1 'p3cfg:\|measured with' "$T/nolib.log")"
  export LD_LIBRARY_PATH=$BASE_LD
else
  log "no $DEV/nccl_single: run bench/gpu_nccl_check.sh --prepare where p3cfg builds, and carry $DEV"
fi

if command -v mpicc >/dev/null && command -v mpirun >/dev/null &&
  pkg-config --exists hwloc yaml-0.1 libcjson 2>/dev/null; then
  log "CMake build of the CLI with MPI and CUDA"
  start=$(date +%s)
  cmake -S . -B /tmp/bn -DP3CFG_BUILD_TESTS=OFF >"$T/cmake.log" 2>&1 &&
    timeout 100 cmake --build /tmp/bn -j 16 --target p3cfg_cli >>"$T/cmake.log" 2>&1
  log "build exit $? after $(($(date +%s) - start)) s; $(grep -m1 'backend nccl' "$T/cmake.log")"
  grep -E 'error|warning' "$T/cmake.log" | head -20 | tee -a "$OUT/check.log"
  if [ -x /tmp/bn/p3cfg ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export LD_LIBRARY_PATH="${NCCL_LIB:+$NCCL_LIB:}$BASE_LD"
    run cli_np1 60 mpirun -np 1 /tmp/bn/p3cfg profile --backend nccl --gpu "$GPU" \
      -o "$OUT/cli_np1.yaml" --force
    run cli_singleton 25 /tmp/bn/p3cfg profile --backend nccl --gpu "$GPU" -q
    log "two ranks on one GPU (NCCL refuses a duplicate GPU): a clear error, no hang"
    run cli_np2_one_gpu 45 mpirun --oversubscribe -np 2 /tmp/bn/p3cfg profile --backend nccl \
      --gpu "$GPU" --timeout 20 -q
  fi
else
  log "no mpicc/mpirun or hwloc/libyaml/cJSON development files: the MPI CLI is not built"
fi

if [ "${GPU_CHECK:-0}" = 1 ]; then
  log "compute profile (bench/gpu_check.sh)"
  OUT="$T/compute" timeout 300 sh bench/gpu_check.sh >/dev/null 2>&1
  log "gpu_check exit $?"
  cat "$T/compute/check.log" >>"$OUT/check.log" 2>/dev/null
  cp "$T/compute/gpu.csv" "$OUT/compute-gpu.csv" 2>/dev/null
fi
log "done"
