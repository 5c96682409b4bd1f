#!/bin/bash
# Device check for the profiler's hwloc GPU detection (run from the repo root).
exec 2>&1
echo "== tools"; for t in cmake gcc mpicc mpirun lstopo-no-graphics lspci pkg-config nvidia-smi; do printf '%s: %s\n' $t "$(command -v $t || echo missing)"; done
pkg-config --modversion hwloc yaml-0.1 libcjson 2>&1 | tr '\n' ' '; echo
echo "== lspci"; (lspci -nn 2>/dev/null | grep -i nvidia) || echo "no lspci output"
echo "== sysfs PCI 10de"; for d in /sys/bus/pci/devices/*; do v=$(cat $d/vendor); c=$(cat $d/class); [ "$v" = 0x10de ] && echo "$d $v $c $(cat $d/device)"; done
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null
if command -v lstopo-no-graphics >/dev/null; then echo "== lstopo"; lstopo-no-graphics --whole-io -v 2>/dev/null | grep -i -B1 -A2 "10de\|GPU\|cuda\|nvml" | head -30; fi
if command -v cmake >/dev/null && command -v mpicc >/dev/null && pkg-config --exists hwloc yaml-0.1 libcjson; then
  echo "== build"; cmake -S . -B /tmp/b -DP3CFG_BUILD_TESTS=OFF >/tmp/cfg.log 2>&1 || tail -20 /tmp/cfg.log
  cmake --build /tmp/b -j16 --target p3cfg_cli 2>&1 | grep -E "error|warning" | head
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  echo "== profile 2 ranks, GPU detected"; timeout 120 mpirun --oversubscribe --bind-to none -np 2 /tmp/b/p3cfg profile -o $OUT/gpu.yaml
  echo "rc=$?"; head -30 $OUT/gpu.yaml 2>/dev/null | grep -v "^#   \|^# method"
else echo "== no build tools: detection checked with lstopo/sysfs only"; fi
