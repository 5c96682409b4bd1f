#!/usr/bin/env python3
"""make_seeds.py - (re)write the seed inputs of the fuzz corpora from the repository.

The corpora under tests/fuzz/corpus/<target>/ hold two kinds of files:
  seed-*     written by this script from models/, clusters/, tests/fixtures/ and
             tests/invalid/ (comment blocks dropped, to keep the corpus small), plus
             a few JSON forms and command lines written here;
  regress-*  inputs that once crashed or hung a target, added by hand with a comment in
             tests/fuzz/README.md; this script never touches them.
Run from anywhere: python3 tests/fuzz/make_seeds.py [--p3cfg build/p3cfg] (python3
standard library only); with --p3cfg the plan-file seeds are made by running the CLI
(`estimate`/`search --format json`), otherwise those seeds are left as they are.
"""

import argparse
import glob
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
MAX_SEED = 8 * 1024  # bytes; bigger sources are cut at a line break (still good seeds)


def strip_comments(data):
    """Drop whole-line comments (keeps inline ones: they exercise the scanner)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    lines = [l for l in text.splitlines(keepends=True) if not re.match(r"^\s*#", l)]
    return "".join(lines).encode("utf-8")


def cut(data):
    if len(data) <= MAX_SEED:
        return data
    end = data.rfind(b"\n", 0, MAX_SEED)
    return data[: end + 1 if end > 0 else MAX_SEED]


def sources(patterns):
    out = []
    for pat in patterns:
        out.extend(sorted(glob.glob(os.path.join(ROOT, pat))))
    return [p for p in out if os.path.isfile(p)]


def seed_name(path):
    rel = os.path.relpath(path, ROOT)
    return "seed-" + re.sub(r"[^A-Za-z0-9.]+", "-", rel)


def reset(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


MODEL_JSON = {"name": "json-model", "layers": 32, "hidden": 4096, "heads": 32,
              "kv_heads": 8, "ffn_hidden": 14336, "activation": "swiglu", "vocab": 128256,
              "seq_len": 8192, "tied_embeddings": False, "position_embedding": "rope",
              "norm": "rmsnorm", "flash_attention": True, "global_batch": 1024,
              "precision": "bf16", "optimizer": "adam", "bias": False, "dropout": False}
CLUSTER_JSON = {"name": "json-cluster", "nodes": 2, "gpus_per_node": 2,
                "gpu": {"name": "h100-sxm", "memory_GiB": 80, "context_MiB": 900,
                        "matmul_efficiency": 0.7},
                "network": {"intra_node_GBps": 450, "inter_node_GBps": 50,
                            "intra_node_latency_us": 2, "inter_node_latency_us": 5},
                "links": {"granularity": "gpu", "names": ["a:0", "a:1", "b:1", "b:0"],
                          "bandwidth_GBps": [[0, 450, 40, 40], [450, 0, 40, 40],
                                             [40, 40, 0, 450], [40, 40, 450, 0]],
                          "latency_us": [[0, 2, 5, 5], [2, 0, 5, 5], [5, 5, 0, 2],
                                         [5, 5, 2, 0]]}}
CLI_LINES = [
    ["search", "m.yaml", "c.yaml", "--top", "3", "--threads", "2", "--format", "json"],
    ["search", "m", "c", "--tp", "2", "--pp", "2", "--mbs", "1", "--vpp", "2", "--sp",
     "--zero", "1", "--recompute", "selective", "--overlap", "grad,param,tp"],
    ["search", "m", "c", "--stage-layers", "1,3", "--pp=2", "--global-batch", "32",
     "--gpus", "8", "--max-mbs", "4", "--explain", "-q", "-o", "out.json", "--force"],
    ["search", "--", "-m", "c", "--no-sp", "--dp", "2"],
    ["estimate", "m", "c", "--tp", "4", "--pp", "1", "--mbs", "2", "--no-time"],
    ["estimate", "m", "c", "--gpus", "4", "--tp", "2", "--dp", "2", "--zero=3"],
    ["estimate", "m", "c", "--tp", "3"],
    ["estimate", "m", "c", "--pp", "2", "--stage-layers", "2,2", "--vpp", "2"],
    ["validate", "--kind", "model", "a.yaml", "b.json", "-k", "auto", "-q"],
    ["validate", "--kind=cluster", "-", "--help"],
    ["search", "--top", "0", "m", "c"],
    ["search", "--tp", "99999999999999999999", "m", "c"],
    ["estimate", "m", "c", "--overlap", "none", "--recompute", "full", "--sp"],
    ["search", "m", "c", "--unknown"],
    ["search", "m", "c", "-x"],
    ["search", "m", "c", "--force=1"],
    ["search", "m", "c", "--tp"],
    ["search", "m", "c", "--seed", "7", "--place-budget", "500ms", "--place-top", "2"],
    ["search", "m", "c", "--no-place", "--place-budget", "100"],
    ["estimate", "m", "c", "--place", "--seed", "3", "--place-budget", "1.5s"],
    ["estimate", "m", "c", "--place", "--no-time"],
]
CMD = {"search": 0, "estimate": 1, "validate": 2}
PLAN_RUNS = [
    ["estimate", "models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", "--tp", "2",
     "--pp", "2", "--format", "json"],
    ["estimate", "models/llama3-8b.yaml", "clusters/dgx-h100-1n.yaml", "--tp", "4", "--pp",
     "2", "--vpp", "2", "--sp", "--recompute", "selective", "--zero", "1", "--format", "json"],
    ["estimate", "models/megatron-1.7b.yaml", "clusters/pipette-a100-16n.yaml", "--gpus", "16",
     "--pp", "2", "--place", "--place-budget", "100", "--format", "json"],
    ["search", "models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", "--top", "3",
     "--format", "json"],
    ["search", "models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", "--top", "1",
     "--zero", "3", "--format", "json"],
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", help="the p3cfg binary, to make the plan-file seeds")
    p3cfg = ap.parse_args().p3cfg
    p3cfg = os.path.abspath(p3cfg) if p3cfg else None
    model_src = sources(["models/*.yaml", "tests/fixtures/parse/model-*",
                         "tests/fixtures/estimate/gpt3-7b-ci.yaml",
                         "tests/fixtures/estimate/bloom-176b.yaml",
                         "tests/invalid/model-*.yaml", "tests/invalid/model-*.json",
                         "tests/invalid/auto-*.yaml"])
    cluster_src = sources(["clusters/*.yaml", "tests/fixtures/parse/cluster-*",
                           "tests/fixtures/estimate/a100-48n.yaml",
                           "tests/fixtures/estimate/h100-1n.yaml",
                           "tests/invalid/cluster-*.yaml", "tests/invalid/cluster-*.json"])
    d = reset("fuzz_model")
    for p in model_src:
        with open(p, "rb") as f:
            write(d, seed_name(p), cut(strip_comments(f.read())))
    write(d, "seed-json-model.json", json.dumps(MODEL_JSON).encode())
    write(d, "seed-json-model-pretty.json", json.dumps(MODEL_JSON, indent=2).encode())

    d = reset("fuzz_cluster")
    for p in cluster_src:
        with open(p, "rb") as f:
            write(d, seed_name(p), cut(strip_comments(f.read())))
    write(d, "seed-json-cluster.json", json.dumps(CLUSTER_JSON).encode())
    write(d, "seed-json-cluster-pretty.json", json.dumps(CLUSTER_JSON, indent=1).encode())

    # validate: the first byte picks the kind (0 auto, 1 model, 2 cluster).
    d = reset("fuzz_validate_kind")
    picks = model_src[::3] + cluster_src[::3]
    for i, p in enumerate(picks):
        with open(p, "rb") as f:
            data = cut(strip_comments(f.read()))
        kind = i % 3
        write(d, seed_name(p), bytes([kind]) + data)
    write(d, "seed-json-model.json", b"\x00" + json.dumps(MODEL_JSON).encode())
    write(d, "seed-json-cluster.json", b"\x02" + json.dumps(CLUSTER_JSON).encode())
    write(d, "seed-empty", b"\x00")

    d = reset("fuzz_cli_args")
    for i, line in enumerate(CLI_LINES):
        data = bytes([CMD[line[0]]]) + b"\0".join(a.encode() for a in line[1:])
        write(d, f"seed-args-{i:02d}", data)

    if p3cfg and os.path.exists(os.path.join(ROOT, "src/parse/plan_file.c")):
        d = reset("fuzz_plan_file")
        for p in sources(["tests/fixtures/plan/*.json", "tests/fixtures/export/*.json",
                          "tests/invalid/plan-*.json"]):
            with open(p, "rb") as f:
                write(d, seed_name(p), cut(f.read()))
        for i, args in enumerate(PLAN_RUNS):
            out = subprocess.run([p3cfg] + args, cwd=ROOT, capture_output=True).stdout
            if out:
                # Compact JSON: the same structure in fewer bytes.
                out = json.dumps(json.loads(out), separators=(",", ":")).encode()
                write(d, f"seed-plan-{i:02d}.json", cut(out) if len(out) > 64 * 1024 else out)


if __name__ == "__main__":
    main()
