"""Stand-in for megatron/training/utils/__init__.py, whose common_utils.py imports mpu,
the tensor-parallel layers and the checkpointing. The four names arguments.py imports,
copied from megatron/training/utils/common_utils.py at d98e8a64 (print_rank_0 and
warn_rank_0 with the rank from the environment, as upstream's _safe_get_rank falls back
to RANK before torch.distributed is initialised)."""
import warnings

import torch

from megatron.core._rank_utils import safe_get_rank as _safe_get_rank


def print_rank_0(message, rank=None):
    if (rank if rank is not None else _safe_get_rank()) == 0:
        print(message, flush=True)


def warn_rank_0(message, rank=None):
    if (rank if rank is not None else _safe_get_rank()) == 0:
        warnings.warn(message)


def get_device_arch_version():
    """Returns GPU arch version (8: Ampere, 9: Hopper, 10: Blackwell, ...)"""
    return torch.cuda.get_device_properties(torch.device("cuda:0")).major


def update_use_dist_ckpt(args):
    args.use_dist_ckpt = args.ckpt_format != "torch"


def is_rank0():
    """Returns true if called in the rank0, false otherwise."""
    return _safe_get_rank() == 0
