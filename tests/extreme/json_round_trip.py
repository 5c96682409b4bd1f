#!/usr/bin/env python3
"""json_round_trip.py - every JSON document p3cfg writes at 100,000 GPUs is one it reads.

On tests/extreme/cluster-100k-gpus.yaml (12,500 nodes of 8): `search --top 2 --format
json -o`, then `export --to megatron` and `--to rankfile` of each plan; `estimate
--exclude` (a placement of several runs) exported and re-planned. Each document must be
small (placements above 4096 ranks are written as runs, docs/cli.md), every command
quick, and the rankfile must put every rank where the document's runs say.

  json_round_trip.py --p3cfg build/p3cfg --root . [--slow F]

--slow multiplies the time and memory bounds (sanitizer builds). Registered in ctest as
extreme_json_round_trip (label extreme). Python 3 standard library only.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

MODEL = "models/gpt3-175b.yaml"
CLUSTER = "tests/extreme/cluster-100k-gpus.yaml"
MAX_DOC_BYTES = 1 << 20   # a document of two 100k-GPU plans (60 MB for five before runs)
MAX_SECONDS = 5.0         # each command
MAX_RSS_BYTES = 256 << 20  # the largest child (600 MB for five plans before runs)

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(args, p3cfg, root, slow, want_exit=0):
    t0 = time.monotonic()
    proc = subprocess.run([p3cfg] + args, cwd=root, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    name = " ".join(args[:1] + [a for a in args[1:] if a.startswith("--to")][:1])
    check(proc.returncode == want_exit,
          f"{' '.join(args)}: exit {proc.returncode} {proc.stderr.decode()[:300]!r}")
    check(dt < MAX_SECONDS * slow, f"{name}: {dt:.2f} s < {MAX_SECONDS * slow:.0f} s")
    return proc.stdout.decode()


def gpu_map(plan):
    """rank -> (node, gpu) as the plan's placement says, in either form."""
    c = plan["cluster"]
    names, g = c["node_names"], c["gpus_per_node"]
    pl = plan["placement"]
    out = {}
    if pl.get("encoding") == "runs":
        index = {n: i for i, n in enumerate(names)}
        for first, count, node, gpu in pl["runs"]:
            base = index[node] * g + gpu
            for k in range(count):
                out[first + k] = (names[(base + k) // g], (base + k) % g)
    else:
        for r in pl["ranks"]:
            out[r["rank"]] = (r["node"], r["gpu"])
    return out


def rankfile_map(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("rank "):
            left, right = line[5:].split("=", 1)
            # "HOST slot=S:* # gpu=G": the slot is the CPU socket, the GPU is gpu=G
            host = right.split(" slot=")[0]
            out[int(left)] = (host, int(right.split("# gpu=")[1]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--slow", type=float, default=1.0)
    a = ap.parse_args()
    p3cfg = os.path.abspath(a.p3cfg)
    with tempfile.TemporaryDirectory() as tmp:
        plans = os.path.join(tmp, "plans.json")
        run(["search", MODEL, CLUSTER, "--global-batch", "12500", "--top", "2", "--format",
             "json", "-o", plans, "-q"], p3cfg, a.root, a.slow)
        size = os.path.getsize(plans)
        check(size < MAX_DOC_BYTES, f"search --top 2 wrote {size} bytes < {MAX_DOC_BYTES}")
        doc = json.load(open(plans))
        check(len(doc["plans"]) == 2, "two plans")
        for i, plan in enumerate(doc["plans"], 1):
            ranks = plan["config"]["dp"] * plan["config"]["tp"] * plan["config"]["pp"]
            check(ranks == 100000, f"plan {i} uses 100000 GPUs")
            check(plan["placement"].get("encoding") == "runs", f"plan {i}: placement as runs")
            check(len(plan["placement"]["runs"]) == 1, f"plan {i}: the default map is one run")
            run(["export", plans, "--plan", str(i), "--to", "megatron"], p3cfg, a.root, a.slow)
            rf = run(["export", plans, "--plan", str(i), "--to", "rankfile"], p3cfg, a.root,
                     a.slow)
            check(rankfile_map(rf) == gpu_map(plan), f"plan {i}: rankfile = the runs")

        # Excluded GPUs break the default map into several runs.
        one = os.path.join(tmp, "one.json")
        c = doc["plans"][0]["config"]
        run(["estimate", MODEL, CLUSTER, "--tp", str(c["tp"]), "--pp", str(c["pp"]),
             "--vpp", str(c["virtual_stages"]), "--sp", "--zero", str(c["zero_stage"]),
             "--global-batch", "12500", "--dp", "250", "--exclude", "node3,node700:5",
             "--format", "json", "-o", one, "-q"], p3cfg, a.root, a.slow)
        est = json.load(open(one))
        runs = est["placement"]["runs"]
        check(len(runs) > 1, f"estimate --exclude: {len(runs)} runs")
        used = set(gpu_map(est).values())
        check(not any(n == "node3" for n, _ in used) and ("node700", 5) not in used,
              "no rank on an excluded GPU")
        rf = run(["export", one, "--to", "rankfile"], p3cfg, a.root, a.slow)
        check(rankfile_map(rf) == gpu_map(est), "estimate --exclude: rankfile = the runs")

        # replan reads the search's runs and writes runs that export reads.
        re = os.path.join(tmp, "replan.json")
        run(["replan", plans, "--exclude", "node17,node100:3", "--model", MODEL, "--cluster",
             CLUSTER, "--format", "json", "-o", re, "-q"], p3cfg, a.root, a.slow)
        check(os.path.getsize(re) < MAX_DOC_BYTES, "replan document small")
        rp = json.load(open(re))
        used = set(gpu_map(rp).values())
        check(not any(n == "node17" for n, _ in used) and ("node100", 3) not in used,
              "replan: no rank on an excluded GPU")
        rf = run(["export", re, "--to", "rankfile"], p3cfg, a.root, a.slow)
        check(rankfile_map(rf) == gpu_map(rp), "replan: rankfile = the runs")

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    check(rss < MAX_RSS_BYTES * a.slow, f"largest command used {rss >> 20} MiB "
          f"< {int(MAX_RSS_BYTES * a.slow) >> 20} MiB")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
