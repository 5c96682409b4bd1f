"""Stand-in for megatron/training/models/__init__.py (the GPT and hybrid model builders,
which import the whole model stack). argument_utils.py imports the two config classes for
gpt_config_from_args / hybrid_config_from_args, which a parse-and-validate run never calls."""


class GPTModelConfig:
    """stand-in (megatron/training/models/gpt.py is not vendored)"""


class HybridModelConfig:
    """stand-in (megatron/training/models/hybrid.py is not vendored)"""
