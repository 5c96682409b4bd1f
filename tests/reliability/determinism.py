#!/usr/bin/env python3
"""determinism.py - same inputs, same bytes (python3 standard library only).

Every case runs `p3cfg search` (or `estimate`) several times: twice with --threads 1 and
once each with --threads 2 and 4, as a table and as JSON. All runs of a case must print
byte-identical output. The JSON is compared unmasked ("elapsed_s" is 0 unless
--timings, which one extra run checks gives a number); in the tables only the "in 0.121 s"
of placement lines is masked. Every count the table prints (plans enumerated, valid, fit)
must agree as printed: none depends on the thread count. Placement runs use a move budget (deterministic for a given seed), never a time
budget. The exit status must agree too. The SVG pictures of a plan must be the same
bytes run after run (estimate twice; search with one and two threads).

Usage: determinism.py --p3cfg build/p3cfg --root .
Registered in CTest as `determinism` (label determinism). Exit 0 when all cases agree.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

CASES = [
    ["search", "models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", "--top", "5",
     "--explain"],
    ["search", "models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml", "--top", "4",
     "--max-mbs", "4"],
    ["search", "models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml", "--top", "3",
     "--tp", "8", "--max-mbs", "4", "--place-budget", "300", "--seed", "7"],
    ["search", "models/bloom-176b.yaml", "clusters/dgx-a100-8n.yaml", "--top", "2",
     "--max-mbs", "2"],
    ["search", "models/megatron-1t.yaml", "clusters/dgx-a100-1n.yaml", "--top", "2"],
]
ESTIMATES = [
    ["estimate", "models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml", "--tp", "8",
     "--pp", "2", "--place", "--place-budget", "500", "--seed", "3"],
]
THREADS = ["1", "1", "2", "4"]
# Pictures: the same plan gives the same SVG bytes (estimate twice; search with 1 and 2
# threads draws its best plan).
PICTURES = [
    ["estimate", "models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml", "--tp", "8",
     "--pp", "4", "--vpp", "2", "--place", "--place-budget", "300"],
    ["search", "models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml", "--top", "2",
     "--max-mbs", "2", "--threads", "1"],
    ["search", "models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml", "--top", "2",
     "--max-mbs", "2", "--threads", "2"],
]


def mask(text):
    if text.lstrip().startswith("{"):
        return text  # JSON: identical bytes, nothing masked
    text = re.sub(r"(, )[0-9.]+( s)$", r"\1X\2", text, flags=re.M)
    text = re.sub(r"(in )[0-9.]+( s)", r"\1X\2", text)
    return text


def run(p3cfg, root, args):
    proc = subprocess.run([p3cfg] + args, cwd=root, capture_output=True, timeout=300,
                          env=dict(os.environ, LC_ALL="C"))
    return proc.returncode, mask(proc.stdout.decode("utf-8", "replace"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    failed = total = 0
    for base in CASES + ESTIMATES:
        for fmt in ("table", "json"):
            variants = [base + ["--format", fmt] + (["--threads", t] if base[0] == "search" else [])
                        for t in (THREADS if base[0] == "search" else ["-", "-"])]
            results = [run(p3cfg, root, v) for v in variants]
            total += 1
            ref = results[0]
            label = " ".join(base + ["--format", fmt])
            if not ref[1]:
                failed += 1
                print(f"FAIL {label}: no output (exit {ref[0]})")
                continue
            bad = [" ".join(v) for v, r in zip(variants, results) if r != ref]
            if bad:
                failed += 1
                print(f"FAIL {label}: output differs from the first run in:")
                for b in bad:
                    print(f"     p3cfg {b}")
            else:
                print(f"ok   {label} ({len(variants)} runs, {len(ref[1])} bytes, exit {ref[0]})")
    # --timings: the wall time is there, and only there.
    total += 1
    timed = subprocess.run([p3cfg] + CASES[0] + ["--format", "json", "--timings"], cwd=root,
                           capture_output=True, timeout=300).stdout.decode()
    m = re.search(r'"elapsed_s":\s*([0-9.eE+-]+)', timed)
    if m and float(m.group(1)) > 0.0:
        print("ok   search --timings fills in elapsed_s")
    else:
        failed += 1
        print("FAIL search --timings: elapsed_s is not a number")
    for group in (PICTURES[:1], PICTURES[1:]):
        total += 1
        shots = []
        for k, base in enumerate(group * (2 if len(group) == 1 else 1)):
            tmp = tempfile.mkdtemp(prefix="p3cfg-determinism-")
            names = ("timeline", "links", "memory")
            args = base + ["--force"] + [x for n in names
                                          for x in (f"--svg-{n}", os.path.join(tmp, n + ".svg"))]
            run(p3cfg, root, args)
            pics = []
            for n in names:
                try:
                    with open(os.path.join(tmp, n + ".svg"), "rb") as f:
                        pics.append(f.read())
                except OSError:
                    pics.append(None)
            shutil.rmtree(tmp, ignore_errors=True)
            shots.append(pics)
        label = " ".join(group[0]) + " --svg-*"
        if any(p is None for p in shots[0]) or any(s != shots[0] for s in shots):
            failed += 1
            print(f"FAIL {label}: the pictures differ between runs (or were not written)")
        else:
            print(f"ok   {label} ({len(shots)} runs, {sum(len(p) for p in shots[0])} bytes)")
    print(f"{total - failed} agree, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
