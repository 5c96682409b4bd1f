#!/usr/bin/env python3
"""check_exports.py - `p3cfg export` round trips (python3 standard library only).

For each plan below, `p3cfg estimate|search --format json` writes PLAN.json, then every
target of `p3cfg export` is parsed by its real parser and compared with the plan:

  megatron    bash sources the file and prints MEGATRON_ARGS; Megatron-LM's own parser
              (add_megatron_arguments() of the vendored tests/upstream/megatron-lm/) parses
              them (check_megatron_upstream.py runs validate_args on them too); degrees, batch sizes, interleaving, the split of layers, sequence
              parallelism, recomputation, the distributed optimizer and the model shape
              must be the plan's;
  torchtitan  checked by check_torchtitan_upstream.py with torchtitan's own config code;
  deepspeed   json; train_batch_size = micro-batch x accumulation x dp, ZeRO stage,
              precision;
  rankfile    every rank once, on the host and GPU the plan's placement gives it (the
              CPU binding is Open MPI's to check: check_launch_upstream.py);
  hostfile    host order and per-host CUDA_VISIBLE_DEVICES rebuild the placement.

Targets that cannot express a plan (Megatron-LM and alibi, ...) must fail with
exit 1 and say why. Registered in tests/CMakeLists.txt as the CTest `export_roundtrip`:
  check_exports.py --p3cfg build/p3cfg --root .
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

from plan_suite import PLANS  # noqa: E402  (tests/export/plan_suite.py)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "upstream",
                                "stubs", "megatron"))

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    return cond


def run(p3cfg, root, args, ok=(0,)):
    proc = subprocess.run([p3cfg] + args, cwd=root, capture_output=True, text=True)
    if proc.returncode not in ok:
        raise RuntimeError(f"p3cfg {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}")
    return proc


# ---- Megatron-LM ------------------------------------------------------------------------

_MEGATRON_PARSER = []


def megatron_parser():
    """The parser Megatron-LM's own add_megatron_arguments() builds (arguments.py at the
    commit vendored in tests/upstream/megatron-lm/, with the stand-ins of
    tests/upstream/stubs/megatron/): every flag name, type and choice is upstream's. The
    validation itself (validate_args, TransformerConfig) is check_megatron_upstream.py's."""
    if not _MEGATRON_PARSER:
        import megatron_upstream
        arguments = megatron_upstream.load()
        _MEGATRON_PARSER.append(arguments.add_megatron_arguments(
            argparse.ArgumentParser(allow_abbrev=False, add_help=False)))
    return _MEGATRON_PARSER[0]


def layout_layers(layout, pp):
    """Layers per pipeline rank and chunks from a --pipeline-model-parallel-layout."""
    chunks = layout.split("|")
    per_chunk = []
    for c in chunks:
        n = 0
        for m in re.finditer(r"t(?:\*(\d+))?", c):
            n += int(m.group(1) or 1)
        per_chunk.append(n)
    check(chunks[0].startswith("E") and chunks[-1].endswith("L"), f"layout {layout}: E...L")
    ranks = [0] * pp
    for i, n in enumerate(per_chunk):
        ranks[i % pp] += n
    return ranks, len(chunks) // pp


def check_megatron(text, plan, name):
    c, m = plan["config"], plan["model"]
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        out = subprocess.run(["bash", "-c", 'set -eu; source "$1"; printf "%s\\n" "${MEGATRON_ARGS[@]}"',
                              "bash", path], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    argv = out.splitlines()
    a = megatron_parser().parse_args(argv)  # exits (fails the test) on an unknown flag
    pp, v, layers = c["pp"], c["virtual_stages"], m["layers"]
    check(a.tensor_model_parallel_size == c["tp"], f"{name}: megatron tp")
    check(a.pipeline_model_parallel_size == pp, f"{name}: megatron pp")
    check((a.context_parallel_size or 1) == c.get("cp", 1), f"{name}: megatron cp")
    check((a.expert_model_parallel_size or 1) == c.get("ep", 1), f"{name}: megatron ep")
    check((a.expert_tensor_parallel_size or c["tp"]) == c.get("etp", c["tp"]),
          f"{name}: megatron etp")
    check(a.micro_batch_size == c["micro_batch"], f"{name}: megatron micro-batch")
    check(a.global_batch_size == c["global_batch"], f"{name}: megatron global batch")
    check(a.sequence_parallel == c["sequence_parallel"], f"{name}: megatron sequence parallel")
    check(a.use_distributed_optimizer == (c["zero_stage"] in (1, 2)), f"{name}: distributed optimizer")
    check(a.use_megatron_fsdp == (c["zero_stage"] == 2), f"{name}: megatron-fsdp")
    check(a.use_torch_fsdp2 == (c["zero_stage"] == 3), f"{name}: fsdp2")
    rec = c["recompute"]
    check(a.recompute_granularity == (None if rec == "none" else rec), f"{name}: recompute")
    if rec == "full":
        check(a.recompute_method == "uniform" and a.recompute_num_layers == 1,
              f"{name}: full recompute method")
    check(a.overlap_grad_reduce == ("grad" in c["overlap"]), f"{name}: grad overlap")
    # FSDP2 (ZeRO 3) prefetches parameters itself: no --overlap-param-gather there.
    check(a.overlap_param_gather == ("param" in c["overlap"] and c["zero_stage"] in (1, 2)),
          f"{name}: param overlap")
    # The split of layers over pipeline ranks and chunks.
    split = c["stage_layers"]
    if a.pipeline_model_parallel_layout:
        ranks, chunks = layout_layers(a.pipeline_model_parallel_layout, pp)
        check(ranks == split and chunks == v, f"{name}: layout {a.pipeline_model_parallel_layout}"
              f" vs stage_layers {split}, vpp {v}")
    else:
        first = a.decoder_first_pipeline_num_layers
        last = a.decoder_last_pipeline_num_layers
        if pp > 1 and (first is not None or last is not None):
            rest = layers - (first or 0) - (last or 0)
            n_mid = pp - (first is not None) - (last is not None)
            mid = rest // n_mid if n_mid else 0
            got = [first if first is not None else mid] + [mid] * (pp - 2) + \
                  [last if last is not None else mid]
            check(n_mid == 0 or rest % n_mid == 0, f"{name}: uneven middle")
            check(got == split, f"{name}: first/last split {got} vs {split}")
        else:
            # With the split's accounting, the embedding and the loss are units of it: rank
            # 0 and the last rank hold one layer fewer (Megatron's get_num_layers_to_build).
            emb = bool(getattr(a, "account_for_embedding_in_pipeline_split", False))
            loss = bool(getattr(a, "account_for_loss_in_pipeline_split", False))
            check(emb == ("embedding" in c.get("split_accounts", [])) and
                  loss == ("loss" in c.get("split_accounts", [])), f"{name}: split accounts")
            units = [n + (emb and j == 0) + (loss and j == pp - 1) for j, n in enumerate(split)]
            check(len(set(units)) == 1, f"{name}: even split expected, plan has {split}")
        units_all = layers + (getattr(a, "account_for_embedding_in_pipeline_split", False) is True) + \
            (getattr(a, "account_for_loss_in_pipeline_split", False) is True)
        if v > 1:
            check(a.num_layers_per_virtual_pipeline_stage * pp * v == units_all, f"{name}: vpp layers")
        else:
            check(a.num_layers_per_virtual_pipeline_stage is None, f"{name}: no vpp flag")
    # Model shape.
    check(a.num_layers == layers and a.hidden_size == m["hidden"] and
          a.num_attention_heads == m["heads"] and a.ffn_hidden_size == m["ffn_hidden"] and
          a.seq_length == m["seq_len"] and a.max_position_embeddings == m["seq_len"],
          f"{name}: model shape")
    gqa = m["kv_heads"] != m["heads"]
    check(a.group_query_attention == gqa and (not gqa or a.num_query_groups == m["kv_heads"]),
          f"{name}: query groups")
    check(a.swiglu == (m["activation"] == "swiglu"), f"{name}: swiglu")
    check(a.normalization == ("RMSNorm" if m["norm"] == "rmsnorm" else "LayerNorm"), f"{name}: norm")
    check(a.position_embedding_type ==
          ("rope" if m["position_embedding"] == "rope" else "learned_absolute"), f"{name}: positions")
    check(a.untie_embeddings_and_output_weights == (not m["tied_embeddings"]), f"{name}: tied")
    check(a.add_bias_linear == m["bias"], f"{name}: bias")
    low = m["precision"] in ("fp8", "mxfp8", "nvfp4")
    check(a.bf16 == (m["precision"] == "bf16" or low) and a.fp16 == (m["precision"] == "fp16"),
          f"{name}: precision")
    # The low-precision recipe (docs/exports.md): fp8 hybrid, tensorwise for current scaling;
    # mxfp8 e4m3; nvfp4 e2m1; the quantized weights as --fp8/--fp4-param-gather.
    fmt, recipe = {"fp8": ("hybrid", None), "mxfp8": ("e4m3", "mxfp8")}.get(m["precision"],
                                                                          (None, None))
    if m["precision"] == "fp8" and m.get("fp8_recipe") == "current":
        recipe = "tensorwise"
    check(a.fp8 == fmt and (recipe is None or a.fp8_recipe == recipe), f"{name}: fp8 recipe")
    nv = m["precision"] == "nvfp4"
    check(a.fp4 == ("e2m1" if nv else None) and (not nv or a.fp4_recipe == "nvfp4"),
          f"{name}: fp4 recipe")
    gather = bool(m.get("fp8_param_gather"))
    check(a.fp8_param_gather == (gather and not nv) and a.fp4_param_gather == (gather and nv),
          f"{name}: param gather")
    check(a.grad_reduce_in_bf16 == (m.get("grad_reduce") == "bf16"), f"{name}: grad_reduce")
    check(a.attention_backend.name == ("flash" if m["flash_attention"] else "unfused"),
          f"{name}: attention backend")
    check((a.hidden_dropout == 0.0) == (not m["dropout"]), f"{name}: dropout")
    check_megatron_issue16(a, m, name)


def check_megatron_issue16(a, m, name):
    """Experts, MLA, head width and MTP (issue 16) against the plan's model."""
    head_dim = m.get("head_dim", m["hidden"] // m["heads"])
    check((a.kv_channels or m["hidden"] // m["heads"]) == head_dim, f"{name}: kv channels")
    check((a.mtp_num_layers or 0) == m.get("mtp_layers", 0), f"{name}: mtp layers")
    att = m.get("attention", {"kind": "gqa"})
    check(a.multi_latent_attention == (att["kind"] == "mla"), f"{name}: mla")
    if att["kind"] == "mla":
        check((a.q_lora_rank or 0) == att["q_lora_rank"] and
              a.kv_lora_rank == att["kv_lora_rank"] and
              a.qk_head_dim == att["qk_nope_head_dim"] and
              a.qk_pos_emb_head_dim == att["qk_rope_head_dim"] and
              a.v_head_dim == att["v_head_dim"], f"{name}: mla widths")
        check(not a.group_query_attention, f"{name}: mla excludes gqa (arguments.py)")
    moe = m.get("moe")
    if not moe:
        check(a.num_experts is None, f"{name}: dense model, no experts")
        return
    L, k = m["layers"], moe["dense_layers"]
    check(a.num_experts == moe["experts"] and a.moe_router_topk == moe["top_k"] and
          a.moe_ffn_hidden_size == moe["expert_ffn_hidden"], f"{name}: experts")
    shared = moe["shared_experts"] * moe["shared_expert_ffn_hidden"]
    check((a.moe_shared_expert_intermediate_size or 0) == shared, f"{name}: shared experts")
    freq = a.moe_layer_freq if a.moe_layer_freq is not None else 1
    layers = freq if isinstance(freq, list) else [1 if i % freq == 0 else 0 for i in range(L)]
    check(layers == [0] * k + [1] * (L - k), f"{name}: moe layer pattern")
    disp = moe.get("dispatcher", "alltoall")  # flex on DeepEP / HybridEP, or all-to-all
    backend = getattr(a, "moe_flex_dispatcher_backend", None)
    check(a.moe_grouped_gemm and (a.moe_token_dispatcher_type, backend if disp != "alltoall"
                                  else disp) == ("alltoall" if disp == "alltoall" else "flex", disp),
          f"{name}: grouped gemm, dispatcher {a.moe_token_dispatcher_type} {backend} vs {disp}")
    check(a.moe_router_load_balancing_type == ["aux_loss"], f"{name}: load balancing")
    cf = moe["capacity_factor"]
    if cf is None:
        check(a.moe_expert_capacity_factor is None and not a.moe_pad_expert_input_to_capacity,
              f"{name}: dropless")
    else:
        # transformer_config.py: padding needs the capacity factor; the drop policy probs
        check(a.moe_expert_capacity_factor == cf and a.moe_pad_expert_input_to_capacity and
              a.moe_token_drop_policy == "probs", f"{name}: capacity factor")
    # arguments.py: "Number of experts should be a multiple of expert model parallel_size."
    check(moe["experts"] % (a.expert_model_parallel_size or 1) == 0, f"{name}: experts % ep")


# ---- torchtitan, DeepSpeed ----------------------------------------------------------------

# torchtitan: the export is a Python config module for torchtitan b5bcd76c, loaded and
# checked by torchtitan's own config code in check_torchtitan_upstream.py (the CTest
# export_torchtitan_upstream), which also checks its refusals.


def check_deepspeed(text, plan, name):
    c, m = plan["config"], plan["model"]
    d = json.loads(text)
    check(d["train_batch_size"] == c["global_batch"], f"{name}: deepspeed batch")
    check(d["train_micro_batch_size_per_gpu"] == c["micro_batch"], f"{name}: deepspeed micro")
    check(d["train_micro_batch_size_per_gpu"] * d["gradient_accumulation_steps"] * c["dp"] ==
          d["train_batch_size"], f"{name}: deepspeed batch triple")
    check(d["zero_optimization"]["stage"] == c["zero_stage"], f"{name}: deepspeed zero")
    check(d["bf16"]["enabled"] == (m["precision"] == "bf16"), f"{name}: deepspeed bf16")
    check(d["fp16"]["enabled"] == (m["precision"] == "fp16"), f"{name}: deepspeed fp16")


# ---- placement ----------------------------------------------------------------------------

def placement(plan):
    return {r["rank"]: (r["node"], r["gpu"]) for r in plan["placement"]["ranks"]}


def check_rankfile(text, plan, name):
    want = placement(plan)
    got = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        # slot=S:* is the CPU socket of the GPU (Open MPI binds to CPUs; mpirun itself
        # checks the binding in check_launch_upstream.py), gpu=G the GPU.
        mt = re.fullmatch(r"rank (\d+)=(\S+) slot=(\d+):\* # gpu=(\d+)", line)
        if not check(mt is not None, f"{name}: rankfile line {line!r}"):
            continue
        r = int(mt.group(1))
        check(r not in got, f"{name}: rank {r} twice")
        got[r] = (mt.group(2), int(mt.group(4)))
    check(got == want, f"{name}: rankfile placement differs")


def check_hostfile(text, plan, name):
    want = placement(plan)
    got = {}
    k = 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mt = re.fullmatch(r"(\S+) slots=(\d+) # CUDA_VISIBLE_DEVICES=([0-9,]+)", line)
        if not check(mt is not None, f"{name}: hostfile line {line!r}"):
            continue
        slots = int(mt.group(2))
        devices = [int(x) for x in mt.group(3).split(",")]
        check(len(devices) == slots, f"{name}: hostfile slots")
        for local, gpu in enumerate(devices):
            got[k * slots + local] = (mt.group(1), gpu)
        k += 1
    check(got == want, f"{name}: hostfile placement differs")


CHECKS = {"megatron": check_megatron,
          "deepspeed": check_deepspeed, "rankfile": check_rankfile, "hostfile": check_hostfile}


def unsupported(plan, fmt):
    """Why `fmt` cannot express `plan`, or None."""
    c, m = plan["config"], plan["model"]
    cp, ep, etp = c.get("cp", 1), c.get("ep", 1), c.get("etp", c["tp"])
    if fmt == "deepspeed" and cp > 1:
        return "no key for context parallelism"
    if fmt == "deepspeed" and ep > 1:
        return "no key for expert parallelism"
    if fmt == "deepspeed" and c.get("recompute_modules", []) not in ([], ["core_attn"]):
        return "no key for Megatron-LM's recompute_modules"
    if fmt == "deepspeed" and m["precision"] in ("fp8", "mxfp8", "nvfp4"):
        return f"no key for {m['precision']} GEMMs"
    if fmt != "megatron":
        return None
    if plan["model"]["position_embedding"] == "alibi":
        return "alibi"
    # torchtitan's FSDP with pipelining, and its HSDP, have no Megatron-LM counterpart.
    # (HSDP first: the export names it before the pipeline when a plan has both.)
    if c["zero_stage"] == 3 and c.get("dp_shard", c["dp"]) != c["dp"]:
        return "does not; export --to torchtitan"
    if c["zero_stage"] == 3 and (c["pp"] > 1 or ep > 1):
        return "supports neither pipeline nor expert parallelism"
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args(argv)
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    exports = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PLANS:
            path = os.path.join(tmp, name + ".json")
            run(p3cfg, root, shlex.split(cmd) + ["--format", "json", "-o", path], ok=(0, 3))
            with open(path) as f:
                doc = json.load(f)
            plans = doc["plans"] if "plans" in doc else [doc]
            for i, plan in enumerate(plans):
                label = f"{name}#{i + 1}"
                for fmt, fn in CHECKS.items():
                    proc = run(p3cfg, root, ["export", path, "--to", fmt, "--plan", str(i + 1)],
                               ok=(0, 1))
                    why = unsupported(plan, fmt)
                    if why:
                        check(proc.returncode == 1 and why in proc.stderr,
                              f"{label}: {fmt} should refuse ({why}): {proc.stderr.strip()}")
                        continue
                    if not check(proc.returncode == 0, f"{label}: {fmt}: {proc.stderr.strip()}"):
                        continue
                    fn(proc.stdout, plan, f"{label} {fmt}")
                    exports += 1
    for f in FAILURES:
        print("FAIL", f)
    print(f"{exports} exports checked, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
