#!/usr/bin/env python3
"""check_torchtitan_upstream.py - `p3cfg export --to torchtitan` loaded by torchtitan itself.

For every plan of tests/export/plan_suite.py, the export (a Python config module) is loaded
through torchtitan b5bcd76c's own config machinery, vendored unmodified in
tests/upstream/torchtitan/ (torch and the other heavy imports are stand-ins from
tests/upstream/stubs/torchtitan/): ConfigManager.parse_args(["--module", "p3cfg_plan",
"--config", "p3cfg_plan"]) imports the module, runs p3cfg_plan(), whose
dataclasses.replace calls run the __post_init__ checks of TrainingConfig,
ParallelismConfig, CompileConfig and Trainer.Config, on top of the model's real
config_registry function and flavor. The loaded config must give back the plan:

  degrees   ParallelDims.from_config (upstream) over the plan's GPUs: dp_replicate x
            dp_shard = dp, cp, tp, pp, ep; the sharding its framework and ZeRO stage map
            to; fsdp_reshard_after_forward resolved by torchtitan's
            get_fsdp_reshard_after_forward_policy; sequence parallelism;
  batch     the arithmetic of torchtitan/trainer.py (Trainer.__init__): tokens per
            micro-batch = micro-batch x seq_len, its sequence/context divisibility, pipeline
            micro-batches, gradient accumulation steps = step tokens / (tokens per DP rank
            x dp), so micro-batches per step = global / (dp x micro-batch);
  layers    module_fqns_per_model_part: pp x vpp stages, placed on pipeline ranks by
            torchtitan's _get_pp_rank_to_stage_indices_mapping, giving each rank the plan's
            layers, every layer once in order, embeddings first and norm/lm_head last;
  AC        FullAC.Config / SelectiveAC.Config / None for full / selective / none;
  compile   compile.enable and async TP;
  model     the flavor's model config (built by upstream model_registry) has the plan
            model's dims.

A plan torchtitan cannot express must make export exit 1 with the reason, which this
script derives on its own (the model families' flavors are rebuilt from upstream, so the
C side's flavor table is checked too). The plan's framework is read from config.framework
(default "megatron"), with config.dp_shard and config.compile for torchtitan plans.
Registered as the CTest `export_torchtitan_upstream` (label cli):
  check_torchtitan_upstream.py --p3cfg build/p3cfg --root .
"""

import argparse
import dataclasses
import importlib
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from plan_suite import PLANS  # noqa: E402

UPSTREAM = os.path.join(HERE, "..", "upstream", "torchtitan")
STUBS = os.path.join(HERE, "..", "upstream", "stubs", "torchtitan")
sys.path[:0] = [os.path.abspath(STUBS), os.path.abspath(UPSTREAM)]
import fakemods  # noqa: E402

fakemods.install(["torch", "spmd_types", "grain", "datasets", "tokenizers", "torchao",
                  "triton", "numpy", "rich"])
logging.disable(logging.WARNING)  # torchtitan warns that hf_assets_path does not exist

from torchtitan.config import ConfigManager  # noqa: E402
from torchtitan.distributed import pipeline_parallel  # noqa: E402
from torchtitan.distributed.activation_checkpoint import FullAC, SelectiveAC  # noqa: E402
from torchtitan.distributed.fsdp import get_fsdp_reshard_after_forward_policy  # noqa: E402
from torchtitan.distributed.parallel_dims import ParallelDims  # noqa: E402
from torchtitan.trainer import Trainer  # noqa: E402

FAILURES = []
FAMILIES = {"llama3": "llama3_configs", "qwen3": "qwen3_configs",
            "deepseek_v3": "deepseekv3_configs", "gpt_oss": "gptoss_configs"}


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    return cond


def model_dims(m):
    """p3cfg's model-record dims of a torchtitan model config (upstream classes)."""
    layers = m.layers
    a = layers[0].attention
    d = {"layers": len(layers), "hidden": m.dim, "vocab": m.vocab_size, "heads": a.n_heads,
         "tied_embeddings": bool(getattr(m, "enable_weight_tying", False)),
         "bias": bool(a.wo.bias)}
    if getattr(a, "kv_lora_rank", None):
        d["attention"] = {"kind": "mla", "q_lora_rank": a.q_lora_rank or 0,
                          "kv_lora_rank": a.kv_lora_rank,
                          "qk_nope_head_dim": a.qk_nope_head_dim,
                          "qk_rope_head_dim": a.qk_rope_head_dim, "v_head_dim": a.v_head_dim}
    else:
        d["kv_heads"] = a.n_kv_heads or a.n_heads
        d["head_dim"] = a.head_dim or a.qkv_linear.head_dim or m.dim // a.n_heads
    dense = [L for L in layers if L.moe is None]
    if dense:
        d["ffn_hidden"] = dense[0].feed_forward.w1.out_features
    moe = [L.moe for L in layers if L.moe is not None]
    if moe:
        sh = moe[0].shared_experts
        d["moe"] = {"experts": moe[0].num_experts, "top_k": moe[0].router.top_k,
                    "expert_ffn_hidden": moe[0].routed_experts.inner_experts.hidden_dim,
                    "shared_experts": 1 if sh is not None else 0,
                    "dense_layers": len(layers) - len(moe)}
        if sh is not None:
            d["moe"]["shared_expert_ffn_hidden"] = sh.w1.out_features
    d["mtp_layers"] = len(getattr(m, "mtp_layers", None) or [])
    return d


def plan_dims(m):
    """The same dims of the plan's model record (only those the flavor has)."""
    d = {k: m[k] for k in ("layers", "hidden", "vocab", "heads", "tied_embeddings", "bias")}
    att = m.get("attention", {"kind": "gqa"})
    if att["kind"] == "mla":
        d["attention"] = {k: att.get(k, 0) for k in ("kind", "q_lora_rank", "kv_lora_rank",
                                                      "qk_nope_head_dim", "qk_rope_head_dim",
                                                      "v_head_dim")}
    else:
        d["kv_heads"] = m["kv_heads"]
        d["head_dim"] = m.get("head_dim") or m["hidden"] // m["heads"]
    moe = m.get("moe")
    if not moe or moe.get("dense_layers", 0) > 0:
        d["ffn_hidden"] = m["ffn_hidden"]
    if moe:
        d["moe"] = {"experts": moe["experts"], "top_k": moe["top_k"],
                    "expert_ffn_hidden": moe["expert_ffn_hidden"],
                    "shared_experts": moe.get("shared_experts", 0),
                    "dense_layers": moe.get("dense_layers", 0)}
        if moe.get("shared_experts", 0):
            d["moe"]["shared_expert_ffn_hidden"] = moe["shared_expert_ffn_hidden"]
    d["mtp_layers"] = m.get("mtp_layers", 0)
    return d


def upstream_flavors():
    """(family, flavor) -> dims, from every flavor of the four families (upstream code)."""
    out = {}
    for fam, table in FAMILIES.items():
        mod = importlib.import_module(f"torchtitan.models.{fam}")
        for flavor in getattr(mod, table):
            if "debug" not in flavor:
                out[(fam, flavor)] = model_dims(mod.model_registry(flavor).model)
    return out


def framework_of(c):
    native = c.get("framework", "megatron") == "torchtitan"
    dp = c["dp"]
    if native:
        shard = c.get("dp_shard") or dp
        return native, dp // shard, shard, c.get("compile", 0)
    return native, (dp if c["zero_stage"] == 0 else 1), (1 if c["zero_stage"] == 0 else dp), 0


def refusal(plan, flavors):
    """Why torchtitan cannot express the plan (a phrase of the export's message), or None."""
    c, m = plan["config"], plan["model"]
    if (m["activation"], m["norm"], m["position_embedding"]) != ("swiglu", "rmsnorm", "rope"):
        return "which none of them builds"
    want = plan_dims(dict(m, mtp_layers=0))
    if not any(dict(d, mtp_layers=0) == want for d in flavors.values()):
        return "has no flavor with the dims"
    cp, ep, etp, tp = c.get("cp", 1), c.get("ep", 1), c.get("etp", c["tp"]), c["tp"]
    shard = framework_of(c)[2]
    if m.get("moe"):
        if ep > 1 and etp != 1:
            return "the experts are not tensor-parallel"
        if ep == 1 and etp != tp:
            return "without expert parallelism the experts are split as the dense layers"
        if ep > 1 and (shard * cp * tp) % ep:
            return "does not divide dp_shard * cp * tp"
    if m.get("mtp_layers", 0) and (c["pp"] > 1 or cp > 1):
        return "MTP does not support"
    if c.get("recompute_modules", []) not in ([], ["core_attn"]):
        return "no Megatron-LM recompute_modules"
    if m["precision"] == "nvfp4":
        return "NVFP4LinearConverter"
    return None


def load(text, tmp, label):
    """The Trainer.Config of the export, through torchtitan's ConfigManager."""
    d = os.path.join(tmp, label.replace("#", "_"))
    os.makedirs(d)
    with open(os.path.join(d, "p3cfg_plan.py"), "w") as f:
        f.write(text)
    sys.modules.pop("p3cfg_plan", None)
    sys.path.insert(0, d)
    try:
        return ConfigManager().parse_args(["--module", "p3cfg_plan", "--config", "p3cfg_plan"])
    finally:
        sys.path.remove(d)


def check_config(cfg, plan, name):
    c, m = plan["config"], plan["model"]
    par, tr = cfg.parallelism, cfg.training
    dp, tp, pp = c["dp"], c["tp"], c["pp"]
    cp, ep, vpp = c.get("cp", 1), c.get("ep", 1), c.get("virtual_stages", 1)
    world = dp * tp * cp * pp
    native, replicate, shard, compile_ = framework_of(c)
    check(isinstance(cfg, Trainer.Config), f"{name}: not a Trainer.Config")
    dims = ParallelDims.from_config(par, world)  # upstream: the product must be the world
    check((dims.dp_replicate, dims.dp_shard, dims.cp, dims.tp, dims.pp, dims.ep)
          == (replicate, shard, cp, tp, pp, ep),
          f"{name}: degrees {dims.dp_replicate, dims.dp_shard, dims.cp, dims.tp, dims.pp}")
    reshard = get_fsdp_reshard_after_forward_policy(par.fsdp_reshard_after_forward, pp > 1)
    if shard > 1 and not native:
        check(reshard == (c["zero_stage"] == 3), f"{name}: reshard_after_forward {reshard}")
    check(par.enable_sequence_parallel == (tp == 1 or bool(c["sequence_parallel"])),
          f"{name}: sequence parallel")

    # Trainer.__init__'s batch arithmetic (torchtitan/trainer.py at b5bcd76c).
    seq = m["seq_len"]
    ntpm = tr.num_tokens_per_microbatch_per_dp_rank
    divisor = (tp if par.enable_sequence_parallel else 1) * (2 * cp if cp > 1 else 1)
    check(ntpm % divisor == 0, f"{name}: {ntpm} tokens not divisible by {divisor}")
    num_pp = par.num_pp_microbatches if pp > 1 else 1
    per_dp_rank = ntpm * num_pp
    step = tr.num_tokens_per_train_step
    step = per_dp_rank * dp if step < 0 else step
    check(step % (per_dp_rank * dp) == 0, f"{name}: step tokens not a multiple")
    accum = step // (per_dp_rank * dp)
    check(ntpm == c["micro_batch"] * seq, f"{name}: micro-batch tokens {ntpm}")
    check(tr.max_context_length == seq, f"{name}: max_context_length")
    check(step == c["global_batch"] * seq, f"{name}: global batch tokens {step}")
    check(accum * num_pp == c["global_batch"] // (dp * c["micro_batch"]),
          f"{name}: {accum} accumulation x {num_pp} pipeline micro-batches")
    check(tr.mixed_precision_param == ("float32" if m["precision"] == "fp32" else "bfloat16"),
          f"{name}: mixed_precision_param")

    # Layers per stage.
    if pp > 1:
        parts = par.module_fqns_per_model_part
        check(par.pipeline_parallel_schedule == ("Interleaved1F1B" if vpp > 1 else "1F1B"),
              f"{name}: schedule {par.pipeline_parallel_schedule}")
        if check(parts is not None and len(parts) == pp * vpp, f"{name}: stage count"):
            flat = [x for part in parts for x in part]
            want = (["tok_embeddings"] + [f"layers.{i}" for i in range(m["layers"])]
                    + ["norm", "lm_head"])
            check(flat == want, f"{name}: modules out of order or missing")
            for r in range(pp):
                stages = pipeline_parallel._get_pp_rank_to_stage_indices_mapping(
                    r, pp, par.pipeline_parallel_schedule, len(parts))
                n = sum(1 for s in stages for x in parts[s] if x.startswith("layers."))
                check(n == c["stage_layers"][r], f"{name}: rank {r} has {n} layers")
            model = cfg.model_spec.model
            check(all(hasattr(model, a) for a in ("tok_embeddings", "norm", "lm_head")),
                  f"{name}: module names")
    # Activation checkpointing, compile.
    ac = {"full": FullAC.Config, "selective": SelectiveAC.Config, "none": type(None)}
    check(type(cfg.activation_checkpoint) is ac[c["recompute"]], f"{name}: AC")
    async_tp = tp > 1 and "tp" in c.get("overlap", [])
    check(cfg.compile.enable_async_tensor_parallel == async_tp, f"{name}: async TP")
    if native:
        check(cfg.compile.enable == bool(compile_), f"{name}: compile")
    # The model: the flavor's dims are the plan's.
    got, want = model_dims(cfg.model_spec.model), plan_dims(m)
    check(got == want, f"{name}: model dims {got} != plan {want}")
    check(cfg.model_spec.name in FAMILIES, f"{name}: family {cfg.model_spec.name}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args(argv)
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    flavors = upstream_flavors()
    loaded = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PLANS:
            path = os.path.join(tmp, name + ".json")
            proc = subprocess.run([p3cfg] + shlex.split(cmd) + ["--format", "json", "-o", path],
                                  cwd=root, capture_output=True, text=True)
            if not check(proc.returncode in (0, 3), f"{name}: {proc.stderr.strip()}"):
                continue
            with open(path) as f:
                doc = json.load(f)
            for i, plan in enumerate(doc["plans"] if "plans" in doc else [doc]):
                label = f"{name}#{i + 1}"
                proc = subprocess.run([p3cfg, "export", path, "--to", "torchtitan", "--plan",
                                       str(i + 1)], cwd=root, capture_output=True, text=True)
                why = refusal(plan, flavors)
                if why:
                    check(proc.returncode == 1 and why in proc.stderr,
                          f"{label}: should refuse ({why}): {proc.stderr.strip()}")
                    refused += 1
                    continue
                if not check(proc.returncode == 0, f"{label}: {proc.stderr.strip()}"):
                    continue
                try:
                    cfg = load(proc.stdout, tmp, label)
                except (Exception, SystemExit) as ex:  # torchtitan refused the config
                    check(False, f"{label}: torchtitan rejects it: {type(ex).__name__}: {ex}")
                    continue
                check_config(cfg, plan, label)
                loaded += 1
    check(loaded >= 10, f"only {loaded} exports loaded")
    for f in FAILURES:
        print("FAIL", f)
    print(f"{loaded} torchtitan exports loaded by torchtitan {COMMIT}, {refused} refused, "
          f"{len(FAILURES)} failures")
    return 1 if FAILURES else 0


COMMIT = "b5bcd76c"

if __name__ == "__main__":
    sys.exit(main())
