# Copyright (c) Meta Platforms, Inc. and affiliates.
# All rights reserved.
#
# This source code is licensed under the BSD-style license found in the
# LICENSE file in the root directory of this source tree.

import torch._dynamo

from torchtitan.config import (
    CompileConfig,
    ParallelismConfig,
    TORCH_DTYPE_MAP,
    TrainingConfig,
)

from torchtitan.distributed import ParallelDims
from torchtitan.distributed.activation_checkpoint import ActivationCheckpointingConfig
from torchtitan.distributed.compile import apply_compile
from torchtitan.distributed.fsdp import (
    apply_fsdp_to_decoder,
    resolve_fsdp_mesh,
    resolve_sparse_fsdp_mesh,
)
from torchtitan.models.gpt_oss.model import GptOssModel


def _raise_dynamo_recompile_limit(
    model: GptOssModel,
) -> None:
    # TP/EP sharding can compile a block before every DTensor local tensor has
    # resolved from AsyncCollectiveTensor to a plain Tensor. Dynamo specializes
    # on both states, and fullgraph=True turns the recompile cap into a hard
    # failure instead of falling back. GPT-OSS needs a slightly higher cap
    # because it alternates sliding-window and full-attention layers.
    # TODO: remove once https://github.com/pytorch/pytorch/issues/187073 is fixed
    min_recompile_limit = 12 if _has_sliding_window_attention(model) else 10
    # PyTorch types this config as Literal[8], but runtime accepts larger ints.
    # pyrefly: ignore [bad-assignment]
    torch._dynamo.config.recompile_limit = max(
        torch._dynamo.config.recompile_limit,
        min_recompile_limit,
    )


def _has_sliding_window_attention(model: GptOssModel) -> bool:
    for module in model.modules():
        window_size = getattr(module, "window_size", None)
        if (
            isinstance(window_size, (tuple, list))
            and len(window_size) > 0
            and window_size[0] != -1
        ):
            return True
    return False


def parallelize_gptoss(
    model: GptOssModel,
    *,
    parallel_dims: ParallelDims,
    training: TrainingConfig,
    parallelism: ParallelismConfig,
    compile_config: CompileConfig,
    ac_config: ActivationCheckpointingConfig,
    dump_folder: str,
    skip_dp: bool = False,
):
    model_compile_enabled = (
        compile_config.enable and "model" in compile_config.components
    )

    if (
        parallelism.spmd_backend == "spmd_types"
        or parallel_dims.tp_enabled
        or parallel_dims.ep_enabled
    ):
        model.parallelize(parallel_dims)

    if ac_config is not None:
        ac_config.build(dump_folder=dump_folder).apply(model)

    # turn on per-TransformerBlock compile after AC wrapping and before FSDP
    if model_compile_enabled:
        if parallel_dims.tp_enabled or parallel_dims.ep_enabled:
            _raise_dynamo_recompile_limit(model)
        apply_compile(
            model,
            compile_config=compile_config,
            parallel_dims=parallel_dims,
        )

    # Skip FSDP wrapper for inference. FSDP's forward hooks
    # are incompatible with torch.inference_mode() used by vLLM.
    # AC and compile are disabled via config (mode="none", enable=False).
    if skip_dp:
        return model

    if parallelism.spmd_backend == "spmd_types":
        dp_mesh, dp_mesh_dims = resolve_fsdp_mesh(parallel_dims)
        edp_mesh, edp_mesh_dims = resolve_sparse_fsdp_mesh(parallel_dims)
    else:
        dp_mesh_names = (
            ["dp_replicate", "fsdp"] if parallel_dims.dp_replicate_enabled else ["fsdp"]
        )
        dp_mesh = parallel_dims.get_mesh(dp_mesh_names)
        dp_mesh_dims = None
        edp_mesh = None
        edp_mesh_dims = None
        if parallel_dims.ep_enabled:
            edp_mesh_names = (
                ["dp_replicate", "efsdp"]
                if parallel_dims.dp_replicate_enabled
                else ["efsdp"]
            )
            edp_mesh = parallel_dims.get_optional_mesh(edp_mesh_names)

    apply_fsdp_to_decoder(
        model,
        dp_mesh,
        param_dtype=TORCH_DTYPE_MAP[training.mixed_precision_param],
        reduce_dtype=TORCH_DTYPE_MAP[training.mixed_precision_reduce],
        pp_enabled=parallel_dims.pp_enabled,
        cpu_offload=training.enable_cpu_offload,
        reshard_after_forward_policy=parallelism.fsdp_reshard_after_forward,
        ep_degree=parallel_dims.ep,
        edp_mesh=edp_mesh,
        dp_mesh_dims=dp_mesh_dims,
        edp_mesh_dims=edp_mesh_dims,
        enable_symm_mem=parallelism.enable_fsdp_symm_mem,
    )

    return model
