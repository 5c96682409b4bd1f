#!/usr/bin/env python3
"""check_svgs.py - the SVG pictures of `search` and `estimate` (python3 standard library).

Each plan below is run with --svg-timeline, --svg-links and --svg-memory; every picture
must parse as XML (xml.etree) with an <svg> root in the SVG namespace, a size, a <title>,
and the blocks the picture is about (rows of the timeline, cells of the link matrix,
bars of the memory chart); the same command must give the same bytes twice; an existing
file is not replaced without --force; and a timeline of a plan without its time part is
refused. Registered in tests/CMakeLists.txt as the CTest `svg_pictures`:
  check_svgs.py --p3cfg build/p3cfg --root .
"""

import argparse
import os
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
]
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
