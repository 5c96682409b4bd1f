#!/usr/bin/env python3
"""check_megatron_upstream.py - every `p3cfg export --to megatron` of the export suite is
accepted by Megatron-LM's own code, at the commit vendored in tests/upstream/megatron-lm/
(README.md there), with torch and the rest replaced by the stand-ins of
tests/upstream/stubs/megatron/ (python3 standard library only).

For each plan of tests/export/plan_suite.py (every plan of a search):
  1. `p3cfg export --to megatron`; bash sources the script in an empty environment and
     gives back MEGATRON_ARGS and the environment it exports;
  2. the launch: argv = MEGATRON_ARGS + LAUNCH_ARGS (what a real launch adds: a data source
     and a tokenizer; pretrain_gpt.py's own defaults are applied as it applies them), the
     environment = the exported one + RANK 0 and WORLD_SIZE = the plan's GPU count (as
     torchrun sets them) and the stand-in GPU of the plan's cluster (compute capability);
  3. Megatron-LM's parse_args() (the parser add_megatron_arguments() builds),
     validate_args() and the TransformerConfig that pretrain_gpt.py builds
     (core_transformer_config_from_args, whose __post_init__ checks the model) must pass;
  4. what they give back must be the plan: degrees (and the data-parallel size Megatron
     derives from WORLD_SIZE), batches, interleaving and the layers of every pipeline
     rank as TransformerConfig lays them out, sequence parallelism, recomputation,
     sharding, overlap, the model's shape and the padded vocabulary.
A script for a plan with FSDP2 is also sourced with CUDA_DEVICE_MAX_CONNECTIONS=1 already
set (common in cluster profiles): it must clear it, since FSDP2 refuses it.

Negative cases: plans Megatron-LM cannot run (the suite's alibi plan, and
plan files edited into shapes upstream refuses) must be refused by `p3cfg export` with
exit 1 and a message naming the reason.

Registered in tests/CMakeLists.txt as the CTest `export_megatron_upstream`:
  check_megatron_upstream.py --p3cfg build/p3cfg --root .
"""

import argparse
import contextlib
import copy
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "upstream", "stubs", "megatron"))

import megatron_upstream  # noqa: E402  (tests/upstream/stubs/megatron/)
from plan_suite import PLANS  # noqa: E402  (tests/export/plan_suite.py)

# What a real launch adds to MEGATRON_ARGS: a data source and a tokenizer (the export
# leaves both to the user). --mock-data is Megatron's synthetic dataset; NullTokenizer
# takes the vocabulary size from --vocab-size, here the plan's (unpadded) vocabulary.
def launch_args(plan):
    return ["--mock-data", "--tokenizer-type", "NullTokenizer",
            "--vocab-size", str(plan["model"]["vocab"])]


# Compute capability of the cluster's GPU, for the stand-in torch.cuda (Megatron's rule
# on CUDA_DEVICE_MAX_CONNECTIONS depends on it: Blackwell, major 10, lifts it).
GPU_ARCH = {"a100": "8.0", "h100": "9.0", "h200": "9.0", "b200": "10.0", "gb200": "10.0",
            "gb300": "10.3", "mi300x": "9.4"}

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


def source(text, start_env=None):
    """bash sources the export in an environment holding only PATH (and start_env):
    returns (MEGATRON_ARGS, the variables it leaves exported, less PATH and bash's own)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(text)
        path = f.name
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(start_env or {})
    try:
        out = subprocess.run(
            ["bash", "-c", 'set -eu; source "$1" >/dev/null; printf "%s\\0" '
             '"${MEGATRON_ARGS[@]}"; printf "\\1\\0"; env -0', "bash", path],
            capture_output=True, text=True, check=True, env=env).stdout
    finally:
        os.unlink(path)
    fields = out.split("\0")
    sep = fields.index("\1")
    exported = dict(kv.split("=", 1) for kv in fields[sep + 1:] if "=" in kv)
    for k in ("PATH", "PWD", "SHLVL", "_", "OLDPWD"):
        exported.pop(k, None)
    return fields[:sep], exported


def gpu_arch(plan):
    gpu = plan["cluster"]["gpu"].lower()
    return next((v for k, v in sorted(GPU_ARCH.items(), key=lambda kv: -len(kv[0]))
                 if gpu.startswith(k)), "9.0")


def validate(argv, env, arch):
    """Upstream parse + validate + TransformerConfig, its printing and warnings kept out
    of the test's output; returns (args, config, warnings) or raises."""
    env = dict(env, P3CFG_STUB_GPU_ARCH=arch)
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        args, config = megatron_upstream.parse(argv, env)
    return args, config, [str(w.message) for w in caught]


def stage_layers(config, pp):
    """Decoder layers per pipeline rank (and the number of chunks) as Megatron-Core lays
    them out: the layout object, or the first/last-stage counts, or an even split."""
    from megatron.core.transformer.enums import LayerType
    layout = config.pipeline_model_parallel_layout
    if layout is not None:
        return ([sum(chunk.count(LayerType.decoder) for chunk in row) for row in layout.layout],
                layout.virtual_pipeline_model_parallel_size)
    vpp = config.virtual_pipeline_model_parallel_size or 1
    first, last = config.num_layers_in_first_pipeline_stage, config.num_layers_in_last_pipeline_stage
    if pp == 1:
        return [config.num_layers], vpp
    emb = bool(getattr(config, "account_for_embedding_in_pipeline_split", False))
    loss = bool(getattr(config, "account_for_loss_in_pipeline_split", False))
    if first is None and last is None and (emb or loss):
        # get_num_layers_to_build (transformer_block.py at the vendored commit; not
        # vendored itself): the embedding and the loss are units of the even split, and
        # rank 0 / the last rank build one layer fewer. TransformerConfig has checked the
        # divisibility by pp and vpp.
        per = (config.num_layers + emb + loss) // pp
        ranks = [per] * pp
        ranks[0] -= emb
        ranks[-1] -= loss
        return ranks, vpp
    if first is None and last is None:
        return [config.num_layers // pp] * pp, vpp
    n_mid = pp - (first is not None) - (last is not None)
    rest = config.num_layers - (first or 0) - (last or 0)
    mid = rest // n_mid if n_mid else 0
    check(n_mid == 0 or rest % n_mid == 0, "uneven middle stages")
    return ([first if first is not None else mid] + [mid] * (pp - 2) +
            [last if last is not None else mid]), vpp


def check_plan(text, plan, name):
    c, m = plan["config"], plan["model"]
    tp, pp, dp = c["tp"], c["pp"], c["dp"]
    cp, ep, etp = c.get("cp", 1), c.get("ep", 1), c.get("etp", c["tp"])
    gpus = dp * tp * cp * pp
    argv, env = source(text)
    launch_env = dict(env, RANK="0", WORLD_SIZE=str(gpus))
    try:
        a, cfg, _ = validate(argv + launch_args(plan), launch_env, gpu_arch(plan))
    except (AssertionError, ValueError, RuntimeError, SystemExit) as e:
        check(False, f"{name}: Megatron-LM refuses it: {type(e).__name__}: {e}")
        return
    zero, rec, ov = c["zero_stage"], c["recompute"], c["overlap"]
    # The environment the launch needs.
    wants_one = (tp > 1 or cp > 1) and zero < 2  # FSDP2 (3) and Megatron-FSDP (2): unset
    check((env.get("CUDA_DEVICE_MAX_CONNECTIONS") == "1") == wants_one,
          f"{name}: CUDA_DEVICE_MAX_CONNECTIONS {env.get('CUDA_DEVICE_MAX_CONNECTIONS')!r}")
    if zero >= 2:
        _, env1 = source(text, {"CUDA_DEVICE_MAX_CONNECTIONS": "1"})
        check(env1.get("CUDA_DEVICE_MAX_CONNECTIONS") != "1",
              f"{name}: FSDP export leaves CUDA_DEVICE_MAX_CONNECTIONS=1 set")
    # Degrees and batches, as validate_args derives them.
    check(a.world_size == gpus and a.data_parallel_size == dp, f"{name}: world {a.world_size} "
          f"dp {a.data_parallel_size}, plan {gpus} GPUs dp {dp}")
    check((a.tensor_model_parallel_size, a.pipeline_model_parallel_size, a.context_parallel_size,
           a.expert_model_parallel_size, a.expert_tensor_parallel_size) == (tp, pp, cp, ep, etp),
          f"{name}: degrees")
    check(a.micro_batch_size == c["micro_batch"] and a.global_batch_size == c["global_batch"] and
          a.global_batch_size % (a.micro_batch_size * a.data_parallel_size) == 0,
          f"{name}: batches")
    v = c["virtual_stages"]
    check(a.virtual_pipeline_model_parallel_size == (v if v > 1 else None), f"{name}: vpp")
    ranks, chunks = stage_layers(cfg, pp)
    check(ranks == c["stage_layers"] and chunks == v,
          f"{name}: Megatron lays out {ranks} x{chunks}, plan {c['stage_layers']} x{v}")
    check(a.sequence_parallel == (c["sequence_parallel"] and tp > 1), f"{name}: sequence parallel")
    check(a.recompute_granularity == (None if rec == "none" else rec), f"{name}: recompute")
    # Megatron-Core's recompute_modules as TransformerConfig resolves them (None -> its
    # default ["core_attn"]), against the plan's list (issue 16).
    if rec == "selective":
        mods = a.recompute_modules if a.recompute_modules is not None else ["core_attn"]
        check(sorted(mods) == sorted(c["recompute_modules"]),
              f"{name}: recompute_modules {mods} != {c['recompute_modules']}")
    else:
        check(c["recompute_modules"] == [], f"{name}: recompute_modules without selective")
    if rec == "full":
        check(a.recompute_method == "uniform" and a.recompute_num_layers == 1,
              f"{name}: full recompute method")
    check(a.use_distributed_optimizer == (zero in (1, 2)) and a.use_torch_fsdp2 == (zero == 3)
          and a.use_megatron_fsdp == (zero == 2), f"{name}: sharding")
    if zero == 2:  # Megatron-FSDP: gradients and optimizer state sharded, parameters not
        check(a.data_parallel_sharding_strategy == "optim_grads" and a.ckpt_format == "fsdp_dtensor",
              f"{name}: Megatron-FSDP strategy {a.data_parallel_sharding_strategy} "
              f"checkpoints {a.ckpt_format}")
    check(a.overlap_grad_reduce == ("grad" in ov), f"{name}: grad overlap")
    check(a.overlap_param_gather == ("param" in ov and zero in (1, 2)), f"{name}: param overlap")
    check(a.tp_comm_overlap == ("tp" in ov and tp > 1), f"{name}: tp overlap")
    # Activation offloading: validate_args turns cpu_offloading on from the layer count,
    # and TransformerConfig has checked pp 1 and no recompute.
    n_off = c.get("cpu_offload_layers", 0)
    check(a.cpu_offloading_num_layers == n_off and bool(getattr(a, "cpu_offloading", False)) == (n_off > 0) and
          not getattr(a, "cpu_offloading_weights", False),
          f"{name}: cpu offloading {a.cpu_offloading_num_layers} != {n_off}")
    # The pipeline split's accounting for the embedding and the loss.
    acc = c.get("split_accounts", [])
    check(bool(cfg.account_for_embedding_in_pipeline_split) == ("embedding" in acc and
                                                                cfg.pipeline_model_parallel_layout is None) and
          bool(cfg.account_for_loss_in_pipeline_split) == ("loss" in acc and
                                                           cfg.pipeline_model_parallel_layout is None),
          f"{name}: split accounts {acc}")
    check_model(a, cfg, plan, name)


def check_model(a, cfg, plan, name):
    from megatron.training.vocab_utils import calculate_padded_vocab_size
    c, m = plan["config"], plan["model"]
    head_dim = m.get("head_dim", m["hidden"] // m["heads"])
    check((cfg.num_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.ffn_hidden_size) ==
          (m["layers"], m["hidden"], m["heads"], m["ffn_hidden"]), f"{name}: model shape")
    check((cfg.num_query_groups or cfg.num_attention_heads) == m["kv_heads"] or
          m.get("attention", {}).get("kind") == "mla", f"{name}: query groups")
    check(cfg.kv_channels == head_dim, f"{name}: kv channels {cfg.kv_channels}")
    check(a.seq_length == m["seq_len"] and a.max_position_embeddings >= m["seq_len"],
          f"{name}: sequence length")
    check(cfg.gated_linear_unit == (m["activation"] == "swiglu"), f"{name}: swiglu")
    check(cfg.normalization == ("RMSNorm" if m["norm"] == "rmsnorm" else "LayerNorm"),
          f"{name}: norm")
    check(a.position_embedding_type ==
          ("rope" if m["position_embedding"] == "rope" else "learned_absolute"), f"{name}: positions")
    check(a.untie_embeddings_and_output_weights == (not m["tied_embeddings"]), f"{name}: tied")
    # Issue 15: the model file's rotary base and norm epsilon reach TransformerConfig
    # (Megatron-LM's defaults 10000 and 1e-5 when the model file has none).
    if m["position_embedding"] == "rope":
        check(a.rotary_base == m.get("rope_theta", 10000),
              f"{name}: rotary base {a.rotary_base} vs {m.get('rope_theta')}")
    # The experts' activation clamp (GPT-OSS's swiglu_limit) reaches TransformerConfig.
    clamp = (m.get("moe") or {}).get("activation_clamp")
    check(cfg.activation_func_clamp_value == clamp,
          f"{name}: activation clamp {cfg.activation_func_clamp_value} vs {clamp}")
    check(abs(cfg.layernorm_epsilon - m.get("norm_eps", 1e-5)) <= 1e-12,
          f"{name}: norm epsilon {cfg.layernorm_epsilon} vs {m.get('norm_eps')}")
    check(cfg.add_bias_linear == m["bias"], f"{name}: bias")
    check((cfg.hidden_dropout == 0.0 and cfg.attention_dropout == 0.0) == (not m["dropout"]),
          f"{name}: dropout")
    check(cfg.attention_backend.name == ("flash" if m["flash_attention"] else "unfused"),
          f"{name}: attention backend")
    prec = m["precision"]
    check(cfg.bf16 == (prec in ("bf16", "fp8", "mxfp8", "nvfp4")) and cfg.fp16 == (prec == "fp16"),
          f"{name}: precision")
    # The gradient buffer's dtype: --bf16 forces fp32 accumulation and reduction unless
    # --grad-reduce-in-bf16 (the model's grad_reduce bf16; absent in older plan files).
    if cfg.bf16:
        check(a.accumulate_allreduce_grads_in_fp32 == (m.get("grad_reduce", "fp32") == "fp32"),
              f"{name}: gradient dtype (accumulate_allreduce_grads_in_fp32 "
              f"{a.accumulate_allreduce_grads_in_fp32}, grad_reduce {m.get('grad_reduce')})")
    check((cfg.fp8 is not None) == (prec in ("fp8", "mxfp8")) and
          (cfg.fp4 is not None) == (prec == "nvfp4"), f"{name}: fp8/fp4")
    # The padded vocabulary Megatron builds is the one the plan was estimated with.
    padded = calculate_padded_vocab_size(m["vocab"], a.make_vocab_size_divisible_by,
                                         a.tensor_model_parallel_size, logging_enabled=False)
    mult = 128 * c["tp"]
    check(padded == -(-m["vocab"] // mult) * mult, f"{name}: padded vocab {padded}")
    check((cfg.mtp_num_layers or 0) == m.get("mtp_layers", 0), f"{name}: mtp layers")
    att = m.get("attention", {"kind": "gqa"})
    check(cfg.multi_latent_attention == (att["kind"] == "mla"), f"{name}: mla")
    if att["kind"] == "mla":
        check(((cfg.q_lora_rank or 0), cfg.kv_lora_rank, cfg.qk_head_dim, cfg.qk_pos_emb_head_dim,
               cfg.v_head_dim) == (att["q_lora_rank"], att["kv_lora_rank"],
                                   att["qk_nope_head_dim"], att["qk_rope_head_dim"],
                                   att["v_head_dim"]), f"{name}: mla widths")
    moe = m.get("moe")
    if not moe:
        check(cfg.num_moe_experts is None, f"{name}: dense model, no experts")
        return
    L, k = m["layers"], moe["dense_layers"]
    check((cfg.num_moe_experts, cfg.moe_router_topk, cfg.moe_ffn_hidden_size) ==
          (moe["experts"], moe["top_k"], moe["expert_ffn_hidden"]), f"{name}: experts")
    shared = moe["shared_experts"] * moe["shared_expert_ffn_hidden"]
    check((cfg.moe_shared_expert_intermediate_size or 0) == shared, f"{name}: shared experts")
    freq = cfg.moe_layer_freq
    layers = freq if isinstance(freq, list) else [1 if i % freq == 0 else 0 for i in range(L)]
    check(layers == [0] * k + [1] * (L - k), f"{name}: moe layer pattern")
    check(cfg.moe_grouped_gemm, f"{name}: grouped gemm")
    # The model's dispatcher: the all-to-all one, or the flex one on DeepEP or HybridEP.
    disp = moe.get("dispatcher", "alltoall")
    if disp == "alltoall":
        check(cfg.moe_token_dispatcher_type == "alltoall", f"{name}: all-to-all dispatcher")
    else:
        check(cfg.moe_token_dispatcher_type == "flex" and
              cfg.moe_flex_dispatcher_backend == disp,
              f"{name}: flex dispatcher {cfg.moe_token_dispatcher_type} "
              f"{cfg.moe_flex_dispatcher_backend} vs {disp}")
    cf = moe["capacity_factor"]
    check(cfg.moe_expert_capacity_factor == cf and
          cfg.moe_pad_expert_input_to_capacity == (cf is not None), f"{name}: capacity factor")


# Plans Megatron-LM cannot run: (suite plan, edit of its plan file, what the refusal says).
# The edits give shapes the search does not produce but a plan file may hold.
def _tie(p):
    p["model"]["tied_embeddings"] = True


def _param_only(p):
    p["config"]["overlap"] = ["param"]


def _param_ddp(p):
    p["config"]["zero_stage"] = 0


def _tp_overlap_no_sp(p):
    p["config"]["overlap"] = ["tp"]
    p["config"]["sequence_parallel"] = False


def _fp16(p):
    p["model"]["precision"] = "fp16"


NEGATIVE = [
    ("bloom-alibi", None, "alibi"),
    ("llama8b-zero3", _tie, "untied embeddings"),
    ("llama8b-zero3", _fp16, "fp16"),
    ("gpt3-3d-interleaved", _param_only, "--overlap-grad-reduce"),
    # Refused by the plan file reader's plan rules before the export sees it.
    ("gpt3-3d-interleaved", _param_ddp, "overlapping the parameter gather needs zero stage 1"),
    ("llama8b-cp2", _tp_overlap_no_sp, "sequence parallelism"),
    # Issue 15: torchtitan's FSDP + PP 3D layout and its HSDP, as searched for torchtitan.
    ("tt-llama405b-3d", None, "neither pipeline nor expert parallelism"),
    ("tt-llama70b-hsdp", None, "dp_shard 8 of dp 64"),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args(argv)
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    megatron_upstream.load()
    validated = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        docs = {}
        for name, cmd in PLANS:
            path = os.path.join(tmp, name + ".json")
            run(p3cfg, root, shlex.split(cmd) + ["--format", "json", "-o", path], ok=(0, 3))
            with open(path) as f:
                docs[name] = json.load(f)
            plans = docs[name]["plans"] if "plans" in docs[name] else [docs[name]]
            for i, plan in enumerate(plans):
                label = f"{name}#{i + 1}"
                proc = run(p3cfg, root, ["export", path, "--to", "megatron", "--plan",
                                         str(i + 1)], ok=(0, 1))
                if any(n == name and edit is None for n, edit, _ in NEGATIVE):
                    continue  # checked below
                c = plan["config"]
                if c["zero_stage"] == 3 and c.get("dp_shard", c["dp"]) != c["dp"]:
                    # a searched torchtitan HSDP plan: no Megatron-LM counterpart
                    check(proc.returncode == 1 and "HSDP" in proc.stderr,
                          f"{label}: HSDP should be refused: {proc.stderr.strip()}")
                    continue
                if c["zero_stage"] == 3 and (c["pp"] > 1 or c.get("ep", 1) > 1):
                    # a searched torchtitan FSDP plan with pipelining: --use-torch-fsdp2 has none
                    check(proc.returncode == 1 and "neither pipeline" in proc.stderr,
                          f"{label}: FSDP with pp should be refused: {proc.stderr.strip()}")
                    continue
                if not check(proc.returncode == 0, f"{label}: {proc.stderr.strip()}"):
                    continue
                check("d98e8a64" in proc.stdout.split("MEGATRON_ARGS")[0],
                      f"{label}: header names the validated Megatron-LM commit")
                check_plan(proc.stdout, plan, label)
                validated += 1
        for name, edit, why in NEGATIVE:
            doc = copy.deepcopy(docs[name])
            plan = doc["plans"][0] if "plans" in doc else doc
            if edit:
                edit(plan)
            path = os.path.join(tmp, f"neg-{refused}.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            proc = run(p3cfg, root, ["export", path, "--to", "megatron"], ok=(0, 1))
            said = "megatron" in proc.stderr or "p3cfg would not plan it" in proc.stderr
            check(proc.returncode == 1 and why in proc.stderr and said,
                  f"{name} ({edit.__name__ if edit else 'as planned'}): should be refused "
                  f"({why}); exit {proc.returncode}: {proc.stderr.strip()}")
            refused += 1
    for f in FAILURES:
        print("FAIL", f)
    print(f"{validated} Megatron exports accepted by Megatron-LM d98e8a64's validate_args and "
          f"TransformerConfig, {refused} refusals checked, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
