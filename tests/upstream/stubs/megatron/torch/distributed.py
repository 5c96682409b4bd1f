"""torch.distributed stand-in: never initialised (Megatron then reads RANK / WORLD_SIZE)."""


def is_available():
    return True


def is_initialized():
    return False


def get_rank(group=None):
    raise RuntimeError("stand-in torch.distributed is not initialised")


def get_world_size(group=None):
    raise RuntimeError("stand-in torch.distributed is not initialised")


class ProcessGroup:
    pass


class ReduceOp:
    SUM, AVG, MAX, MIN = "sum", "avg", "max", "min"
