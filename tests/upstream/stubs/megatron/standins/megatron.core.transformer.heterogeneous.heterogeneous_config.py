"""Stand-in: HeterogeneousTransformerConfig, used by core_transformer_config_from_args only
with --heterogeneous-layers-config-path, which the export never writes."""


class HeterogeneousTransformerConfig:
    """stand-in (heterogeneous_config.py is not vendored)"""
