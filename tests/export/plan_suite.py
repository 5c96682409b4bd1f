"""plan_suite.py - the plans every export test runs (issue 15: "a suite of at least 20
varied plans"). Each entry is (name, command after `p3cfg`), run from the repository root;
the command writes one plan (estimate) or several (search) as JSON. Every export checker
(check_exports.py for the round trips, and the upstream validators beside it) imports
PLANS from here, so a plan added here is checked by all of them.
"""

PLANS = [
    ("gpt3-3d-interleaved", "estimate models/gpt3-175b.yaml clusters/dgx-a100-64n.yaml --tp 8 --pp 8 "
     "--vpp 3 --mbs 1 --sp --recompute selective --zero 1 --overlap grad,param"),
    ("gpt3-pipette-placed", "estimate models/gpt3-175b.yaml clusters/pipette-a100-16n.yaml --tp 8 "
     "--pp 4 --vpp 3 --mbs 1 --sp --recompute selective --zero 1 --place"),
    ("llama70b-pipette-search", "search models/llama3-70b.yaml clusters/pipette-a100-16n.yaml "
     "--top 3"),
    ("llama70b-uneven", "estimate models/llama3-70b.yaml clusters/dgx-h100-8n.yaml --tp 8 --pp 4 "
     "--mbs 1 --sp --stage-layers 19,21,21,19 --recompute full --zero 1"),
    ("llama8b-1f1b", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --pp 4 "
     "--mbs 1 --global-batch 16 --recompute full"),
    ("llama8b-cp2", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --cp 2 "
                    "--sp --mbs 1"),
    ("llama8b-cp2-zero1", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --cp 2 "
                          "--sp --mbs 1 --zero 1"),
    # Issue 16: Megatron-Bridge's Qwen3-30B-A3B layout (ep 8, distributed optimizer) and
    # DeepSeek-V3's (pp 16, ep 64; arXiv 2412.19437 sec. 3.2.1) with MLA, a shared expert,
    # 3 dense layers and MTP; a capacity factor; an expert-tensor-parallel plan.
    ("qwen3-30b-a3b-ep8", "estimate models/qwen3-30b-a3b.yaml clusters/dgx-h100-8n.yaml --ep 8 "
                          "--mbs 1 --zero 1"),
    ("qwen3-30b-a3b-ep8-ddp", "estimate models/qwen3-30b-a3b.yaml clusters/dgx-h100-8n.yaml "
                              "--ep 8 --mbs 1"),
    ("deepseek-v3-pp16-ep64", "estimate models/deepseek-v3.yaml clusters/dgx-h100-128n.yaml "
                              "--pp 16 --ep 64 --mbs 1 --zero 1 --recompute full"),
    ("mixtral-capacity-ep4", "estimate tests/fixtures/export/mixtral-8x7b-capacity.yaml "
                             "clusters/dgx-h100-1n.yaml --tp 2 --sp --ep 4 --etp 1 --mbs 1 --zero 1"),
    ("mixtral-etp2", "estimate models/mixtral-8x7b.yaml clusters/dgx-h100-8n.yaml --tp 2 --sp "
                     "--ep 4 --pp 4 --mbs 1 --zero 1"),
    ("llama8b-zero3", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --zero 3 --mbs 2"),
    ("llama8b-zero2", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --framework deepspeed "
                     "--zero 2 --mbs 2"),
    # Meta's Llama 3 405B layout (arXiv 2407.21783 Table 4: tp 8, pp 16, 32 micro-batches
    # per pipeline, no recomputation) with gradients sharded as its FSDP did (Sec. 3.3.2):
    # Megatron-FSDP's optim_grads (ZeRO 2) with pipelining, on 2048 of its 8192 GPUs (dp 16).
    ("llama405b-meta-zero2-pp16", "estimate models/llama3-405b.yaml clusters/dgx-h100-256n.yaml "
                                  "--tp 8 --pp 16 --mbs 1 --global-batch 512 --sp "
                                  "--zero 2 --overlap grad,param"),
    ("bloom-alibi", "estimate models/bloom-176b.yaml clusters/dgx-a100-64n.yaml --tp 4 --pp 12 "
     "--gpus 384 --mbs 1 --sp --recompute selective --zero 1 --stage-layers "
     "5,6,6,6,6,6,6,6,6,6,6,5"),
]

# More shapes (issue 15's suite): data-parallel only, deep pipelines, GQA with interleaving,
# MoE with pipelines, long context, the 2048-GPU Llama 3 405B layout of arXiv 2407.21783
# (tp 8, pp 16, sequence parallel), and A100 / B200 / NVL72 clusters.
PLANS += [
    ("llama8b-dp8", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --mbs 1 --zero 1"),
    ("llama8b-dp8-ddp-mbs4", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --mbs 4 "
                             "--recompute full"),
    ("llama70b-tp4-pp2-vpp", "estimate models/llama3-70b.yaml clusters/dgx-h100-8n.yaml --tp 4 "
                             "--pp 2 --vpp 5 --mbs 1 --sp --zero 1 --overlap grad,param"),
    ("llama405b-tp8-pp16", "estimate models/llama3-405b.yaml clusters/dgx-h100-256n.yaml --tp 8 "
                           "--pp 16 --mbs 1 --sp --zero 1 --recompute full"),
    ("llama8b-128k-cp4", "estimate models/llama3-8b-128k.yaml clusters/dgx-h100-8n.yaml --tp 4 "
                         "--cp 4 --sp --mbs 1 --zero 1 --recompute full"),
    ("mixtral8x22b-pp4-ep8", "estimate models/mixtral-8x22b.yaml clusters/dgx-h100-32n.yaml "
                             "--tp 2 --sp --pp 4 --ep 8 --etp 1 --mbs 1 --zero 1 --recompute full"),
    ("qwen3-235b-ep8-pp8", "estimate models/qwen3-235b-a22b.yaml clusters/dgx-h100-32n.yaml "
                           "--tp 2 --sp --pp 8 --ep 8 --etp 1 --mbs 1 --zero 1 --recompute full"),
    ("gpt3-a100-tp8-pp8", "estimate models/gpt3-175b.yaml clusters/dgx-a100-128n.yaml --tp 8 "
                          "--pp 8 --mbs 1 --sp --recompute full --zero 1"),
    ("llama70b-b200-tp8", "estimate models/llama3-70b.yaml clusters/dgx-b200-8n.yaml --tp 8 "
                          "--mbs 1 --sp --zero 1 --recompute selective"),
    ("llama70b-nvl72-search", "search models/llama3-70b.yaml clusters/gb200-nvl72-1r.yaml "
                              "--top 2"),
]

# Megatron-LM's validate_args rules (issue 15): FSDP2 with tensor parallelism (no
# CUDA_DEVICE_MAX_CONNECTIONS=1, no fused gradient accumulation) and tensor-parallel
# communication overlap with sequence parallelism and the distributed optimizer.
PLANS += [
    ("llama8b-zero3-tp2", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --sp "
                          "--zero 3 --mbs 1 --overlap grad,param"),
    ("llama70b-tp8-overlap-all", "estimate models/llama3-70b.yaml clusters/dgx-h100-8n.yaml --tp 8 "
                                 "--sp --zero 1 --mbs 1 --recompute full --overlap grad,param,tp"),
]

# Issue 15: plans searched or estimated for torchtitan and DeepSpeed themselves. torchtitan's
# benchmarks (benchmarks/llama3_h100_202412_torchtitan.md @ b5bcd76c): Llama 3.1 8B FSDP on
# 8 GPUs, local batch 2, selective AC; Llama 3 70B FSDP 32 x TP 8 with full AC; the 405B 3D
# layout (FSDP + TP 8 + PP, parameters unsharded between micro-batches); HSDP; eager.
PLANS += [
    ("tt-llama8b-fsdp", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --framework "
                        "torchtitan --zero 3 --mbs 2 --global-batch 16 --recompute selective"),
    ("tt-llama70b-fsdp-tp8", "estimate models/llama3-70b.yaml clusters/dgx-h100-32n.yaml "
                             "--framework torchtitan --tp 8 --zero 3 --mbs 16 --global-batch 512 "
                             "--recompute full"),
    ("tt-llama70b-hsdp", "estimate models/llama3-70b.yaml clusters/dgx-h100-64n.yaml --framework "
                         "torchtitan --tp 8 --zero 3 --dp-shard 8 --recompute full --mbs 1"),
    ("tt-llama405b-3d", "estimate models/llama3-405b.yaml clusters/dgx-h100-64n.yaml --framework "
                        "torchtitan --tp 8 --pp 8 --zero 3 --mbs 1 --recompute full"),
    ("tt-llama8b-eager-ddp", "estimate models/llama3-8b.yaml clusters/dgx-h100-8n.yaml "
                             "--framework torchtitan --tp 2 --no-compile --mbs 1 "
                             "--recompute full"),
    ("tt-search-llama8b", "search models/llama3-8b.yaml clusters/dgx-h100-8n.yaml --framework "
                          "torchtitan --top 3"),
    ("ds-llama70b-pipe", "estimate models/llama3-70b.yaml clusters/dgx-h100-8n.yaml --framework "
                         "deepspeed --tp 8 --pp 4 --mbs 1 --zero 1 --recompute full"),
    ("ds-llama8b-zero3", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --framework "
                         "deepspeed --zero 3 --mbs 2 --overlap grad"),
]

# Issue 16: Megatron-LM's selective-recompute modules, as Megatron-Bridge's MoE perf recipes
# set them (perf_recipes/gpt_oss/h100/gpt_oss.py @ 067f987: recompute_modules ["layernorm",
# "moe_act"]), with fp8 (tensorwise scaling: delayed scaling has no moe_act/layernorm
# recompute), and a dense plan recomputing its MLP with core attention.
PLANS += [
    ("qwen3-30b-a3b-ep8-sel-modules", "estimate models/qwen3-30b-a3b.yaml clusters/dgx-h100-8n.yaml "
                                      "--ep 8 --mbs 2 --zero 1 --recompute selective "
                                      "--recompute-modules moe_act,layernorm"),
    ("gpt-oss-pp4-ep8-sel-modules", "estimate models/gpt-oss-120b.yaml clusters/dgx-h100-8n.yaml "
                                    "--pp 4 --ep 8 --mbs 1 --zero 1 --recompute selective "
                                    "--recompute-modules layernorm,moe_act"),
    ("llama8b-sel-mlp", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --tp 2 --sp "
                        "--mbs 1 --zero 1 --recompute selective --recompute-modules core_attn,mlp"),
]

# Megatron-Bridge's bf16 gradient buffers (ddp.grad_reduce_in_fp32 = False in every perf
# recipe: perf_recipes/_common.py @ 067f987): a model file with grad_reduce bf16, exported
# as Megatron-LM's --grad-reduce-in-bf16 (check_megatron_upstream.py: validate_args leaves
# accumulate_allreduce_grads_in_fp32 False), with the distributed optimizer and with DDP.
PLANS += [
    ("qwen3-30b-a3b-ep8-bf16-grads", "estimate tests/fixtures/export/qwen3-30b-a3b-bf16-grads.yaml "
                                     "clusters/dgx-h100-8n.yaml --ep 8 --mbs 1 --zero 1 "
                                     "--overlap grad,param"),
    ("qwen3-30b-a3b-ep8-bf16-grads-ddp", "estimate tests/fixtures/export/"
                                         "qwen3-30b-a3b-bf16-grads.yaml clusters/dgx-h100-8n.yaml "
                                         "--ep 8 --mbs 1 --recompute full"),
]

# The loss kernel (cross_entropy_cost.h): Megatron-Core's JIT-fused cross entropy, exported
# as --cross-entropy-loss-fusion --cross-entropy-fusion-impl native (cross_entropy fused,
# Transformer Engine's, is refused: validate_args at d98e8a6 rejects impl te).
PLANS += [
    ("llama8b-ce-native", "estimate tests/fixtures/export/llama3-8b-ce-native.yaml "
                          "clusters/dgx-h100-1n.yaml --tp 2 --sp --mbs 1 --zero 1"),
]

# Megatron-Core's split accounting (account_for_embedding/loss_in_pipeline_split; Megatron-
# Bridge's Llama 3.1 405B recipes): an even split exported as the two flags, an uneven one as
# a layout whose first and last chunks hold a layer fewer.
PLANS += [
    ("llama405b-split-accounts", "estimate models/llama3-405b.yaml clusters/dgx-h100-128n.yaml "
                                 "--tp 8 --pp 8 --vpp 4 --mbs 1 --sp --zero 1 --recompute full "
                                 "--split-accounts embedding,loss --global-batch 512"),
    ("llama405b-split-accounts-uneven", "estimate models/llama3-405b.yaml "
                                        "clusters/dgx-h100-128n.yaml --tp 8 --pp 8 --vpp 4 --mbs 1 "
                                        "--sp --zero 1 --recompute full --split-accounts "
                                        "embedding,loss --stage-layers 15,16,16,16,16,16,12,19 "
                                        "--global-batch 512"),
]

# Megatron-Core's activation offloading (cpu_offloading_num_layers; Megatron-Bridge's GB200
# and GB300 Llama 3 70B recipes offload 20-40 layers), exported as
# --cpu-offloading-num-layers and checked by TransformerConfig (pp 1, no recompute).
PLANS += [
    ("llama8b-cpu-offload", "estimate models/llama3-8b.yaml clusters/dgx-h100-1n.yaml --mbs 1 "
                            "--zero 1 --cpu-offload-layers 24"),
]

# A deterministic run (the model's deterministic: Megatron-LM's --deterministic-mode with
# its environment; torchtitan's debug.deterministic): Megatron-LM's CI 7B test on its DGX
# A100 plan (tp 4, dp 2, micro-batch 2, distributed optimizer, overlapped gradient reduce
# and parameter gather), checked by the vendored determinism.py.
PLANS += [
    ("gpt3-7b-ci-deterministic", "estimate tests/fixtures/export/gpt3-7b-ci-deterministic.yaml "
                                 "clusters/dgx-a100-1n.yaml --tp 4 --mbs 2 --zero 1 "
                                 "--overlap grad,param"),
]
PLANS += [
    ("llama8b-deterministic-fsdp", "estimate tests/fixtures/export/llama3-8b-deterministic.yaml "
                                   "clusters/dgx-h100-1n.yaml --framework torchtitan --zero 3 "
                                   "--mbs 1 --recompute selective"),
]

# The flex token dispatcher (moe.dispatcher: Megatron-LM's --moe-token-dispatcher-type flex
# --moe-flex-dispatcher-backend deepep|hybridep): Megatron-Core's ModelZoo Qwen3-235B-A22B
# plan on 256 H100 with DeepEP (tp 2, pp 8, vpp 4, ep 32, etp 1, the all-to-all overlap;
# yanring/Megatron-MoE-ModelZoo best_practice/qwen3/readme.md at e8650517), and Megatron-
# Bridge's Qwen3-30B-A3B with HybridEP (perf_recipes/qwen/h100/qwen3_moe.py at 067f987).
PLANS += [
    ("qwen3-235b-modelzoo-deepep", "estimate tests/fixtures/export/qwen3-235b-a22b-deepep.yaml "
                                   "clusters/dgx-h100-32n.yaml --tp 2 --sp --pp 8 --vpp 4 --ep 32 "
                                   "--etp 1 --mbs 1 --global-batch 2048 --zero 1 --recompute "
                                   "selective --recompute-modules layernorm,moe_act "
                                   "--split-accounts embedding,loss --overlap grad,param,ep"),
    ("qwen3-30b-a3b-hybridep", "estimate tests/fixtures/export/qwen3-30b-a3b-hybridep.yaml "
                               "clusters/dgx-h100-8n.yaml --ep 8 --mbs 1 --zero 1 "
                               "--overlap grad,param"),
]

# The low-precision recipe as the plan records it (model file fp8_recipe, fp8_param_gather):
# Megatron-Bridge's H100 FP8-CS Llama 3 70B recipe (tp 4, pp 8, vpp 5; --fp8-recipe
# tensorwise --fp8-param-gather) and its GB200 NVFP4 one (tp 2, pp 4, vpp 5;
# --fp4-param-gather), both with bf16 gradient buffers (perf_recipes/llama at 067f987).
PLANS += [
    ("llama70b-fp8cs-param-gather", "estimate tests/fixtures/export/llama3-70b-fp8cs.yaml "
                                    "clusters/dgx-h100-8n.yaml --tp 4 --pp 8 --vpp 5 --mbs 1 "
                                    "--sp --zero 1 --overlap grad,param,tp"),
    ("llama70b-nvfp4-param-gather", "estimate tests/fixtures/export/llama3-70b-nvfp4.yaml "
                                    "clusters/gb200-nvl72-1r.yaml --gpus 64 --tp 2 --pp 4 --vpp 5 "
                                    "--mbs 1 --sp --zero 1 --overlap grad,param"),
]
