#!/usr/bin/env python3
"""check_svgs.py - the SVG pictures of `search` and `estimate` (python3 standard library).

Each plan below is run with --svg-timeline, --svg-links and --svg-memory; every picture
must parse as XML (xml.etree) with an <svg> root in the SVG namespace, a size, a <title>,
and the blocks the picture is about (rows of the timeline, cells of the link matrix,
bars of the memory chart); the same command must give the same bytes twice; an existing
file is not replaced without --force; and a timeline of a plan without its time part is
refused. The timeline of a step too long to number (the README's GPT-3 plan on 1024 A100,
and a 32-stage 1F1B plan) must have a zoom panel over the first pipeline cycles: a window
from 0 holding stage 0's warm-up and its first backwards, one box per operation with a
tooltip, micro-batch numbers, and with many stages the first and last four and a row
naming the stages left out. A one-node links picture is drawn per GPU. The links picture of
an expert-parallel plan outlines its EP groups (one dashed block per group of consecutive
cells, each covering ep GPUs) and marks their all-to-all pairs; a dense one has neither. Registered in tests/CMakeLists.txt as the CTest `svg_pictures`:
  check_svgs.py --p3cfg build/p3cfg --root .
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
PLANS = [
    ("gpt3-3d", "estimate models/gpt3-175b.yaml clusters/dgx-a100-64n.yaml --tp 8 --pp 8 --vpp 3 "
     "--mbs 1 --sp --recompute selective --zero 1"),
    ("gpt3-pipette", "estimate models/gpt3-175b.yaml clusters/pipette-a100-16n.yaml --tp 8 --pp 4 "
     "--vpp 3 --mbs 1 --sp --recompute selective --zero 1 --place"),
    ("llama8b-search", "search models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --top 2"),
    ("llama8b-1f1b", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --pp 4 "
     "--mbs 1 --global-batch 16 --recompute full"),
    ("gpu-links", "estimate tests/fixtures/parse/model-minimal.yaml "
     "tests/fixtures/parse/cluster-links-gpu.yaml --tp 2"),
    ("gpt3-readme", "search models/gpt3-175b.yaml clusters/dgx-a100-128n.yaml --top 1"),
    ("qwen3-ep4-1n", "estimate models/qwen3-30b-a3b.yaml clusters/dgx-h100-1n.yaml --ep 4 "
     "--mbs 1 --zero 1"),
    ("qwen3-ep16-8n", "estimate models/qwen3-30b-a3b.yaml clusters/dgx-h100-8n.yaml --ep 16 "
     "--mbs 1 --zero 1"),
    ("gpt3-pp32", "estimate models/gpt3-175b.yaml clusters/dgx-a100-128n.yaml --tp 4 --pp 32 "
     "--mbs 1 --sp --recompute selective"),
]
# name: (stages the zoom must draw, the elision row's text or None)
ZOOMS = {
    "gpt3-readme": (list(range(8)), None),
    "gpt3-pp32": ([0, 1, 2, 3, 28, 29, 30, 31], "stages 4\u201327 (24 stages) not drawn"),
}
# name: GPUs a per-GPU links picture has per side
PER_GPU_LINKS = {"llama8b-1f1b": 8, "qwen3-ep4-1n": 8}
# name: (EP group outlines, their side in cells) of the links picture; other plans: none
EP_LINKS = {"qwen3-ep4-1n": (2, 4), "qwen3-ep16-8n": (4, 2)}
OP = re.compile(r"stage (\d+) \u00b7 (forward|backward) \u00b7 micro-batch (\d+)"
                r"(?: \u00b7 chunk (\d+))? \u00b7 ([0-9.]+)\u2013([0-9.]+) s")
KINDS = ("timeline", "links", "memory")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    return cond


def p3cfg(exe, root, args):
    return subprocess.run([exe] + args, cwd=root, capture_output=True, text=True)


def check_svg(path, kind, label):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, f"{label}: not XML: {e}")
        return
    check(root.tag == NS + "svg", f"{label}: root is {root.tag}")
    check(float(root.get("width", "0")) > 0 and float(root.get("height", "0")) > 0,
          f"{label}: no size")
    check(root.find(NS + "title") is not None and root.find(NS + "title").text, f"{label}: title")
    rects = root.findall(".//" + NS + "rect")
    check(len(rects) > (2 if kind == "links" else 10), f"{label}: only {len(rects)} rects")
    text = " ".join(t.text or "" for t in root.iter(NS + "text"))
    want = {"timeline": "stage 0", "links": "sender", "memory": "pipeline stage"}[kind]
    check(want in text, f"{label}: no '{want}' text")


def check_zoom(path, label, stages, elided):
    """The zoom panel: the first cycles, operation by operation."""
    root = ET.parse(path).getroot()
    panels = {g.get("class"): g for g in root.iter(NS + "g") if (g.get("class") or "").startswith("panel")}
    if not check("panel zoom" in panels and "panel whole" in panels, f"{label}: no zoom panel"):
        return
    zoom, whole = panels["panel zoom"], panels["panel whole"]
    z0, z1 = (float(x) for x in zoom.get("data-window-s").split())
    w0, w1 = (float(x) for x in whole.get("data-window-s").split())
    check(z0 == 0 and 0 < z1 < 0.25 * w1, f"{label}: zoom window {z0}-{z1} s of a {w1} s step")
    ops = []
    for g in zoom.iter(NS + "g"):
        t = g.find(NS + "title")
        m = OP.match(t.text) if t is not None and t.text else None
        if m:
            ops.append((int(m[1]), m[2], int(m[3]), float(m[5]), float(m[6])))
            check(len(g.findall(NS + "rect")) >= 1, f"{label}: operation without a box: {t.text}")
    check(sorted({o[0] for o in ops}) == stages, f"{label}: zoom draws stages {sorted({o[0] for o in ops})}")
    s0 = [o for o in ops if o[0] == 0]
    # Stage 0: micro-batch 0's forward first, its warm-up, then a few backwards (a few
    # steady cycles), nothing past the window.
    check(s0 and s0[0][1:3] == ("forward", 0) and s0[0][3] == 0, f"{label}: stage 0 does not start the window")
    back = [o for o in s0 if o[1] == "backward"]
    check(1 <= len(back) <= 4, f"{label}: {len(back)} backwards of stage 0 in the window")
    check(all(o[3] < z1 for o in ops), f"{label}: an operation starts after the window")
    check(len(s0) >= len(stages), f"{label}: only {len(s0)} operations on stage 0")
    numbers = [t.text for t in zoom.iter(NS + "text") if t.text and t.text.isdigit()]
    check(len(numbers) >= 4 * len(stages) and {"0", "1", "2", "3"} <= set(numbers),
          f"{label}: {len(numbers)} micro-batch numbers in the zoom")
    texts = " ".join(t.text or "" for t in zoom.iter(NS + "text"))
    if elided:
        check(elided in texts, f"{label}: no '{elided}' row")
    for j in stages:
        check(f"stage {j}" in texts, f"{label}: no 'stage {j}' row label")


def check_links_per_gpu(path, label, gpus):
    root = ET.parse(path).getroot()
    cells = [r for r in root.iter(NS + "rect") if r.find(NS + "title") is not None]
    check(len(cells) == gpus * gpus, f"{label}: {len(cells)} cells, not {gpus} x {gpus} GPUs")
    names = {r.find(NS + "title").text.split(" ")[0] for r in cells}
    check(len(names) == gpus, f"{label}: senders {sorted(names)}")


def check_ep_groups(path, label, want):
    """The dashed EP-group blocks of the links picture: how many and how many cells wide."""
    root = ET.parse(path).getroot()
    blocks = [r for r in root.iter(NS + "rect") if r.get("class") == "ep-group"]
    cells = [r for r in root.iter(NS + "rect") if r.find(NS + "title") is not None]
    if want is None:
        check(not blocks, f"{label}: a dense plan with EP outlines")
        return
    n, side = want
    check(len(blocks) == n, f"{label}: {len(blocks)} EP outlines, want {n}")
    cs = float(cells[0].get("width"))
    check(all(abs(float(b.get("width")) - side * cs) < 0.01 for b in blocks),
          f"{label}: EP outlines not {side} cells wide")
    text = " ".join(t.text or "" for t in root.iter(NS + "text"))
    check("expert-parallel all-to-all" in text, f"{label}: no EP legend")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args(argv)
    exe, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    pictures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PLANS:
            outs = {k: os.path.join(tmp, f"{name}-{k}.svg") for k in KINDS}
            flags = [a for k in KINDS for a in (f"--svg-{k}", outs[k])]
            base = shlex.split(cmd) + ["-q", "-o", os.path.join(tmp, name + ".txt"), "--force"]
            proc = p3cfg(exe, root, base + flags)
            if not check(proc.returncode in (0, 3), f"{name}: exit {proc.returncode}: {proc.stderr}"):
                continue
            first = {}
            for k in KINDS:
                check_svg(outs[k], k, f"{name} {k}")
                with open(outs[k], "rb") as f:
                    first[k] = f.read()
                pictures += 1
            if name in ZOOMS:
                check_zoom(outs["timeline"], f"{name} timeline", *ZOOMS[name])
            check_ep_groups(outs["links"], f"{name} links", EP_LINKS.get(name))
            if name in PER_GPU_LINKS:
                check_links_per_gpu(outs["links"], f"{name} links", PER_GPU_LINKS[name])
            proc = p3cfg(exe, root, base + flags)
            for k in KINDS:
                with open(outs[k], "rb") as f:
                    check(f.read() == first[k], f"{name} {k}: not deterministic")
        # Manners: no overwrite without --force; no timeline without the time model.
        existing = os.path.join(tmp, "gpt3-3d-memory.svg")
        proc = p3cfg(exe, root, shlex.split(PLANS[0][1]) + ["--svg-memory", existing])
        check(proc.returncode == 1 and "already exists" in proc.stderr,
              f"overwrite without --force: exit {proc.returncode}: {proc.stderr}")
        proc = p3cfg(exe, root, shlex.split(PLANS[0][1]) +
                     ["--no-time", "-o", os.path.join(tmp, "no-time.txt"), "--svg-timeline",
                      os.path.join(tmp, "t.svg")])
        check(proc.returncode == 1 and "time" in proc.stderr,
              f"timeline without time: exit {proc.returncode}: {proc.stderr}")
    for f in FAILURES:
        print("FAIL", f)
    print(f"{pictures} pictures checked, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
