"""Stand-in for megatron/core/models/gpt/experimental_attention_variant_module_specs.py
(the layer specs of the experimental attention variants, which import the layers).
TransformerConfig.__post_init__ imports the two name helpers below; they are copied from
that file at d98e8a64."""
import warnings
from typing import Optional

GDN_ATTENTION_VARIANTS = ("gdn", "gdn2")

_DEPRECATED_ATTENTION_VARIANT_ALIASES = {"gated_delta_net": "gdn"}


def normalize_experimental_attention_variant(
    experimental_attention_variant: Optional[str],
) -> Optional[str]:
    canonical = _DEPRECATED_ATTENTION_VARIANT_ALIASES.get(experimental_attention_variant)
    if canonical is None:
        return experimental_attention_variant
    warnings.warn(
        f"experimental_attention_variant='{experimental_attention_variant}' is deprecated "
        f"and will be removed in a future release. Use '{canonical}' instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return canonical


def is_gated_delta_net_variant(experimental_attention_variant: Optional[str]) -> bool:
    canonical = _DEPRECATED_ATTENTION_VARIANT_ALIASES.get(
        experimental_attention_variant, experimental_attention_variant
    )
    return canonical in GDN_ATTENTION_VARIANTS
