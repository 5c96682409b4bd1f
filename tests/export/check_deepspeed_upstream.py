#!/usr/bin/env python3
"""check_deepspeed_upstream.py - every key of `p3cfg export --to deepspeed` is one that
DeepSpeed v0.19.5 reads, by DeepSpeed's own sources (python3 standard library only).

DeepSpeed's config classes are pydantic models over torch, neither installed here, so
the vendored sources (tests/upstream/deepspeed/, unmodified) are read with `ast`:

  top level          the string constants of deepspeed/runtime/constants.py,
                     ZERO_OPTIMIZATION of zero/config.py and the key
                     get_tensor_parallel_config() looks up (tensor_parallel/config.py);
  zero_optimization  the fields (and Field aliases) of DeepSpeedZeroConfig, whose model
                     forbids others (config_utils.py: extra="forbid"), with their
                     annotated types (bool, int, the ZeroStageEnum values);
  tensor_parallel    the fields of TPTrainingConfig: autotp_size = the plan's tp;
  bf16, fp16         BFLOAT16_ENABLED / FP16_ENABLED.

And DeepSpeed's batch rule (runtime/config.py _batch_assertion): train_batch_size =
train_micro_batch_size_per_gpu x gradient_accumulation_steps x data-parallel size.
For every plan of plan_suite.py. Registered as the CTest `export_deepspeed_upstream`.
"""

import argparse
import ast
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from plan_suite import PLANS  # noqa: E402

DS = os.path.join(HERE, "..", "upstream", "deepspeed", "deepspeed", "runtime")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    return cond


def tree(rel):
    with open(os.path.join(DS, rel)) as f:
        return ast.parse(f.read())


def module_strings(t):
    """NAME = "string" at module level: {NAME: string}."""
    out = {}
    for node in t.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and
                isinstance(node.value.value, str)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def model_fields(t, cls):
    """{key: annotation source} of a pydantic model class, aliases included."""
    for node in t.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            break
    else:
        raise KeyError(cls)
    fields = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            ann = ast.unparse(item.annotation)
            fields[item.target.id] = ann
            v = item.value
            if isinstance(v, ast.Call) and ast.unparse(v.func).endswith("Field"):
                for kw in v.keywords:
                    if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                        fields[kw.value.value] = ann
    return fields


def enum_values(t, cls):
    for node in t.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return {s.value.value for s in node.body
                    if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)}
    raise KeyError(cls)


def looked_up_keys(t, fn):
    """String constants tested with `in` inside function fn (the ds_config keys it reads)."""
    for node in t.body:
        if isinstance(node, ast.FunctionDef) and node.name == fn:
            return {c.left.value for c in ast.walk(node)
                    if isinstance(c, ast.Compare) and isinstance(c.left, ast.Constant) and
                    any(isinstance(op, ast.In) for op in c.ops)}
    raise KeyError(fn)


def forbids_extra():
    t = tree("config_utils.py")
    for node in ast.walk(t):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "ConfigDict":
            for kw in node.keywords:
                if kw.arg == "extra":
                    return kw.value.value == "forbid"
    return False


def schema():
    consts = module_strings(tree("constants.py"))
    zt = tree("zero/config.py")
    tt = tree("tensor_parallel/config.py")
    top = set(consts.values()) | {module_strings(zt)["ZERO_OPTIMIZATION"]}
    top |= looked_up_keys(tt, "get_tensor_parallel_config")
    return {"top": top, "zero": model_fields(zt, "DeepSpeedZeroConfig"),
            "stages": enum_values(zt, "ZeroStageEnum"), "tp": model_fields(tt, "TPTrainingConfig"),
            "bf16_enabled": consts["BFLOAT16_ENABLED"], "fp16_enabled": consts["FP16_ENABLED"],
            "bf16": consts["BFLOAT16"], "fp16": consts["FP16"]}


def typed(value, ann):
    if "bool" in ann:
        return isinstance(value, bool)
    if ann in ("int", "Optional[int]") or ann.endswith("Enum"):
        return isinstance(value, int) and not isinstance(value, bool)
    return True


def check_config(d, plan, s, name):
    c = plan["config"]
    for key in d:
        check(key in s["top"], f"{name}: DeepSpeed v0.19.5 reads no top-level key {key!r}")
    z = d.get("zero_optimization", {})
    for key, v in z.items():
        if check(key in s["zero"], f"{name}: DeepSpeedZeroConfig has no field {key!r}"):
            check(typed(v, s["zero"][key]), f"{name}: zero_optimization.{key} = {v!r} is not "
                  f"{s['zero'][key]}")
    check(z.get("stage") in s["stages"] and z.get("stage") == c["zero_stage"],
          f"{name}: zero stage {z.get('stage')}")
    tp = d.get("tensor_parallel")
    if c["tp"] > 1:
        if check(tp is not None, f"{name}: tp {c['tp']} without tensor_parallel.autotp_size"):
            for key, v in tp.items():
                if check(key in s["tp"], f"{name}: TPTrainingConfig has no field {key!r}"):
                    check(typed(v, s["tp"][key]), f"{name}: tensor_parallel.{key} = {v!r}")
            check(tp.get("autotp_size") == c["tp"], f"{name}: autotp_size {tp.get('autotp_size')}")
    else:
        check(tp is None, f"{name}: tensor_parallel written for tp 1")
    for sec, key in ((s["bf16"], s["bf16_enabled"]), (s["fp16"], s["fp16_enabled"])):
        check(set(d.get(sec, {})) <= {key}, f"{name}: {sec} keys {sorted(d.get(sec, {}))}")
    # runtime/config.py _batch_assertion, with DeepSpeed's data-parallel world size.
    check(d["train_batch_size"] == d["train_micro_batch_size_per_gpu"] *
          d["gradient_accumulation_steps"] * c["dp"], f"{name}: batch triple")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args(argv)
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    s = schema()
    check(forbids_extra(), "config_utils.py: DeepSpeedConfigModel no longer forbids extra keys")
    check({"stage", "overlap_comm", "contiguous_gradients"} <= set(s["zero"]) and
          "autotp_size" in s["tp"], "the vendored schema lost the fields this check relies on")
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PLANS:
            path = os.path.join(tmp, name + ".json")
            subprocess.run([p3cfg] + shlex.split(cmd) + ["--format", "json", "-o", path],
                           cwd=root, capture_output=True, check=False)
            with open(path) as f:
                doc = json.load(f)
            for i, plan in enumerate(doc["plans"] if "plans" in doc else [doc], 1):
                proc = subprocess.run([p3cfg, "export", path, "--to", "deepspeed", "--plan",
                                       str(i)], cwd=root, capture_output=True, text=True)
                if proc.returncode == 1:  # cp or ep: refused with the reason (check_exports.py)
                    continue
                check_config(json.loads(proc.stdout), plan, s, f"{name}#{i}")
                n += 1
    for f in FAILURES:
        print("FAIL", f)
    print(f"{n} ds_configs checked against DeepSpeed v0.19.5, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
