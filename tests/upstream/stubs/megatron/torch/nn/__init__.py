"""torch.nn stand-in: empty Module and init (TransformerConfig names them as defaults)."""
from . import functional, init  # noqa: F401


class Module:
    pass


class Parameter:
    pass
