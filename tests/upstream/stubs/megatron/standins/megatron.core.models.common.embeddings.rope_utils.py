"""Stand-in for megatron/core/models/common/embeddings/rope_utils.py: TransformerConfig
checks that Transformer Engine's fused RoPE kernels exist (they do in the TE the stand-in
environment reports, megatron.core.utils' P3CFG_STUB_TE); these never run."""


def fused_apply_rotary_pos_emb(*args, **kwargs):
    raise NotImplementedError("stand-in: Transformer Engine kernel")


def fused_apply_rotary_pos_emb_thd(*args, **kwargs):
    raise NotImplementedError("stand-in: Transformer Engine kernel")
