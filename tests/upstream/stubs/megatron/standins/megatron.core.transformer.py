"""Stand-in for megatron/core/transformer/__init__.py: its real one imports the layers
(module, transformer_layer, spec_utils' builders); arguments.py and argument_utils.py use
only the configs, loaded here from the vendored transformer_config.py."""
from .transformer_config import MLATransformerConfig, TransformerConfig  # noqa: F401
