"""Stand-in for torch, enough for Megatron-LM's argument parsing and validation
(megatron/training/arguments.py, TransformerConfig) to import and run without a GPU.

What it answers is set by the checker through the environment:
  P3CFG_STUB_GPU_ARCH  compute capability "MAJOR.MINOR" of the stand-in GPU (default 9.0)
  P3CFG_STUB_TORCH     the torch version reported (default 2.9.0)
Nothing here computes; tensors and modules are empty classes.
"""
import os as _os

__version__ = _os.environ.get("P3CFG_STUB_TORCH", "2.9.0")


class dtype:
    def __init__(self, name, itemsize):
        self.name, self.itemsize = name, itemsize
        self.is_floating_point = name.startswith(("float", "bfloat"))

    def __repr__(self):
        return "torch." + self.name


float32 = float = dtype("float32", 4)
float16 = half = dtype("float16", 2)
bfloat16 = dtype("bfloat16", 2)
float64 = double = dtype("float64", 8)
float8_e4m3fn = dtype("float8_e4m3fn", 1)
float8_e5m2 = dtype("float8_e5m2", 1)
uint8 = dtype("uint8", 1)
int8 = dtype("int8", 1)
int32 = int = dtype("int32", 4)
int64 = long = dtype("int64", 8)
bool = dtype("bool", 1)


class Size(tuple):
    pass


class Tensor:
    pass


class Generator:
    pass


class device:
    def __init__(self, spec="cpu", index=None):
        self.type = str(spec).split(":")[0]
        self.index = index


class _NoGrad:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


def no_grad():
    return _NoGrad()


def is_grad_enabled():
    return True


def _identity_decorator(fn=None, *args, **kwargs):
    if fn is None or not callable(fn):
        return lambda f: f
    return fn


compile = _identity_decorator

from . import autograd, cuda, distributed, jit, nn  # noqa: E402
from .nn import functional  # noqa: E402,F401


def use_deterministic_algorithms(mode, warn_only=False):
    """megatron/training/determinism.py calls it under --deterministic-mode: nothing to do."""
    return None
