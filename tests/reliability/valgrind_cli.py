#!/usr/bin/env python3
"""valgrind_cli.py - the p3cfg CLI under valgrind memcheck (python3 standard library only).

Runs, each under `valgrind --error-exitcode=99 --leak-check=full
--errors-for-leak-kinds=definite,indirect`:
  - `p3cfg validate` of every preset in models/ and clusters/, and of every bad-input
    fixture in tests/invalid/ (the error paths free what they took, too);
  - `p3cfg estimate` of a small plan (tp 8 on 8 GPUs) of every model on one DGX A100
    node, and of Megatron 1.7B on every cluster (--gpus 8 --tp 8; placed with --place
    on clusters with measured links);
  - `p3cfg search --top 3` of Megatron 1.7B on one DGX A100 node (table and JSON, two
    threads), a constrained search with placement on Pipette's 16 nodes, and one where
    nothing fits (the closest miss);
  - `p3cfg export` of a plan file to every launcher format, and an interleaved estimate
    placed on Pipette's links with its three SVG pictures (written to a temporary
    directory).
The valgrind exit code is 99, not 1, because the CLI itself exits 1 on bad input and 3
when a plan does not fit: those are expected; a memcheck error or a definite or indirect
leak is not. Every run's exit status must be one the command may give (0, 1, 3).

Usage: valgrind_cli.py --p3cfg build/p3cfg --root . [--valgrind valgrind] [--jobs N]
Registered in CTest as `valgrind_cli` (label valgrind). Exit 0 when every run is clean.
"""

import argparse
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile

VALGRIND_ERROR = 99


def commands(root, tmp):
    """(args after p3cfg, exit codes allowed) for every run; pictures go to tmp."""
    rel = lambda pat: sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, pat)))
    models = rel("models/*.yaml")
    clusters = rel("clusters/*.yaml")
    out = []
    for f in models + clusters:
        out.append((["validate", f], {0}))
    for f in rel("tests/invalid/*.yaml") + rel("tests/invalid/*.json"):
        if os.path.isfile(os.path.join(root, f)):
            out.append((["validate", f], {1}))
    for m in models:
        out.append((["estimate", m, "clusters/dgx-a100-1n.yaml", "--tp", "8", "--format", "json"],
                    {0, 1, 3}))
    for c in clusters:
        args = ["estimate", "models/megatron-1.7b.yaml", c, "--gpus", "8", "--tp", "8"]
        with open(os.path.join(root, c), encoding="utf-8") as f:
            if "\nlinks:" in f.read():
                args += ["--place", "--place-budget", "200"]
        out.append((args, {0, 3}))
    plan = "tests/cli/cases/usage_export_plan_past_end/plan.json"
    for fmt in ("megatron", "torchtitan", "deepspeed", "rankfile", "hostfile"):
        out.append((["export", plan, "--to", fmt], {0, 1}))
    pictures = ["--force", "--svg-timeline", os.path.join(tmp, "t.svg"), "--svg-links",
                os.path.join(tmp, "l.svg"), "--svg-memory", os.path.join(tmp, "m.svg")]
    out.append((["estimate", "models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml",
                 "--tp", "8", "--pp", "4", "--vpp", "2", "--place", "--place-budget", "100"]
                + pictures, {0}))
    small = ["models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", "--top", "3"]
    out.append((["search"] + small + ["--explain"], {0}))
    out.append((["search"] + small + ["--format", "json", "--threads", "2"], {0}))
    out.append((["search", "models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml",
                 "--top", "2", "--tp", "8", "--max-mbs", "2", "--place-budget", "100"], {0}))
    out.append((["search", "models/megatron-1t.yaml", "clusters/dgx-a100-1n.yaml", "--top", "2",
                 "--max-mbs", "2"], {3}))
    return out


def run(valgrind, p3cfg, root, args, allowed):
    cmd = [valgrind, "-q", f"--error-exitcode={VALGRIND_ERROR}", "--leak-check=full",
           "--errors-for-leak-kinds=definite,indirect",
           "--show-leak-kinds=definite,indirect", p3cfg] + args
    proc = subprocess.run(cmd, cwd=root, capture_output=True, timeout=600,
                          env=dict(os.environ, LC_ALL="C"))
    err = proc.stderr.decode("utf-8", "replace")
    memcheck = "\n".join(l for l in err.splitlines() if l.startswith("=="))
    problems = []
    if proc.returncode == VALGRIND_ERROR or memcheck:
        problems.append(f"memcheck errors:\n{memcheck}")
    elif proc.returncode not in allowed:
        problems.append(f"exit {proc.returncode}, expected one of {sorted(allowed)}:\n{err}")
    return " ".join(args), problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    tmp = tempfile.mkdtemp(prefix="p3cfg-valgrind-")
    todo = commands(root, tmp)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run, args.valgrind, p3cfg, root, a, ok) for a, ok in todo]
        for fut in futures:
            line, problems = fut.result()
            if problems:
                failed += 1
                print(f"FAIL p3cfg {line}")
                for p in problems:
                    print(p)
            else:
                print(f"ok   p3cfg {line}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(todo) - failed} clean, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
