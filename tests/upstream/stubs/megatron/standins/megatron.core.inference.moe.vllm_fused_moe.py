"""Stand-in: vLLM's fused MoE kernel, imported by megatron/core/inference/moe/__init__.py."""


def vllm_fused_moe(*args, **kwargs):
    raise NotImplementedError("stand-in: inference kernels are not vendored")
