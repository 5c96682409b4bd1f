"""Stand-in for megatron/core/utils.py (3193 lines that import parallel_state, the
distributed optimizer, Transformer Engine and flash-attention): the names the vendored
files import, with the versions a launch environment reports.

Versions: torch from the torch stand-in (P3CFG_STUB_TORCH, default 2.9.0), Transformer
Engine P3CFG_STUB_TE (default 2.9.0), no FlashInfer. The version helpers compare as
upstream's packaging.version does for the strings Megatron passes ("2.7.0.dev0" < "2.7.0").
"""
import functools
import logging
import math
import os
import re

import torch

from megatron.core._rank_utils import log_single_rank  # noqa: F401  (upstream re-exports it)

_VALID_DSA_KERNEL_BACKENDS = ("none", "tilelang", "cudnn")


def _key(v):
    m = re.match(r"(\d+(?:\.\d+)*)(.*)", str(v))
    nums = [int(x) for x in m.group(1).split(".")]
    nums += [0] * (4 - len(nums))
    return (tuple(nums), 0 if "dev" in m.group(2) or "rc" in m.group(2) else 1)


def get_torch_version():
    return torch.__version__


def get_te_version():
    return os.environ.get("P3CFG_STUB_TE", "2.9.0")


def _min(have, version, check_equality):
    return _key(have) >= _key(version) if check_equality else _key(have) > _key(version)


def is_torch_min_version(version, check_equality=True):
    return _min(get_torch_version(), version, check_equality)


def is_te_min_version(version, check_equality=True):
    return _min(get_te_version(), version, check_equality)


def is_flashinfer_min_version(version, check_equality=True):
    return False  # not installed


def _validate_dsa_kernel_backend_dependencies(dsa_kernel_backend):
    """As upstream for "none"; the fused DSA kernels are not installed."""
    if dsa_kernel_backend not in _VALID_DSA_KERNEL_BACKENDS:
        raise ValueError("dsa_kernel_backend must be one of: "
                         f"{', '.join(_VALID_DSA_KERNEL_BACKENDS)}.")
    if dsa_kernel_backend != "none":
        raise ValueError(f"dsa_kernel_backend={dsa_kernel_backend}: not installed (stand-in)")


def init_method_normal(sigma):
    return functools.partial(torch.nn.init.normal_, mean=0.0, std=sigma)


def scaled_init_method_normal(sigma, num_layers, multiplier=2.0):
    std = sigma / math.sqrt(multiplier * num_layers)
    return functools.partial(torch.nn.init.normal_, mean=0.0, std=std)


def mup_scaled_init_method_normal(sigma, num_layers, width_mult, multiplier=2.0):
    std = sigma / (math.sqrt(multiplier * num_layers) * math.sqrt(width_mult))
    return functools.partial(torch.nn.init.normal_, mean=0.0, std=std)


def log_on_each_pipeline_stage(logger, level, msg, *args, **kwargs):
    logging.getLogger(logger.name if isinstance(logger, logging.Logger) else str(logger)).log(
        level, msg, *args)
