"""torch.cuda stand-in: one GPU of compute capability P3CFG_STUB_GPU_ARCH (default 9.0)."""
import os as _os


def _arch():
    major, _, minor = _os.environ.get("P3CFG_STUB_GPU_ARCH", "9.0").partition(".")
    return int(major), int(minor or 0)


class _Props:
    def __init__(self):
        self.major, self.minor = _arch()
        self.name = "stand-in GPU sm_%d%d" % (self.major, self.minor)
        self.total_memory = 80 * 2**30
        self.multi_processor_count = 132


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return 0


def get_device_capability(device=None):
    return _arch()


def get_device_properties(device=None):
    return _Props()


def get_device_name(device=None):
    return _Props().name


def is_bf16_supported():
    return _arch()[0] >= 8
