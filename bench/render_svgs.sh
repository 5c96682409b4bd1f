#!/bin/sh
# render_svgs.sh — write the three pictures (timeline, links, memory) of two plans and
# render each SVG to PNG with headless Chromium, to look at them as a browser shows them.
#
#   bench/render_svgs.sh [P3CFG] [OUTDIR]     (defaults: build/p3cfg, /tmp/p3cfg-svg;
#                                              P3CFG relative to the repository root)
#
# Plans: GPT-3 175B on 64 DGX A100 nodes, 3D with interleaving (nominal network), and
# on the 16-node Pipette cluster with measured links, placed. Needs chromium
# (apt-get install -y chromium). Prints each PNG written.
set -eu
cd "$(dirname "$0")/.."
P3CFG=$(realpath "${1:-build/p3cfg}")
OUT=${2:-/tmp/p3cfg-svg}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

render() { # NAME ARGS...: write NAME-{timeline,links,memory}.svg, then PNGs
  name=$1
  shift
  "$P3CFG" estimate "$@" --force -q \
    --svg-timeline "$OUT/$name-timeline.svg" --svg-links "$OUT/$name-links.svg" \
    --svg-memory "$OUT/$name-memory.svg" > /dev/null || [ $? -eq 3 ]
  for kind in timeline links memory; do
    svg="$OUT/$name-$kind.svg"
    size=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$svg" | head -n 1)
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
      --screenshot="$OUT/$name-$kind.png" --window-size="${size:-1400,900}" \
      "file://$(realpath "$svg")" > /dev/null 2>&1
    echo "$OUT/$name-$kind.png"
  done
}

render gpt3-dgx models/gpt3-175b.yaml clusters/dgx-a100-64n.yaml \
  --tp 8 --pp 8 --vpp 3 --mbs 1 --sp --recompute selective --zero 1
render gpt3-pipette models/gpt3-175b.yaml clusters/pipette-a100-16n.yaml \
  --tp 8 --pp 4 --vpp 3 --mbs 1 --sp --recompute selective --zero 1 --place
render llama8b-1f1b models/llama3-8b.yaml clusters/dgx-h100-1n.yaml \
  --tp 2 --pp 4 --mbs 1 --global-batch 16 --recompute full
