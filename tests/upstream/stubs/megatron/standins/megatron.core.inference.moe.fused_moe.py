"""Stand-in: the fused MoE inference kernels (Triton); megatron/core/inference/moe/__init__.py
imports these names, TransformerConfig only its InferenceGroupedGemmBackend enum."""
import enum


class ActivationType(enum.Enum):
    SQUARED_RELU = "squared_relu"
    SWIGLU = "swiglu"


def mcore_fused_moe(*args, **kwargs):
    raise NotImplementedError("stand-in: inference kernels are not vendored")
