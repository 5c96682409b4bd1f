"""Stand-ins for the libraries torchtitan b5bcd76c's config code imports but never needs to
build a config: torch, spmd_types, grain, datasets, tokenizers, torchao, triton, numpy, rich.

install(roots) adds an import hook that makes every module under those roots a stand-in
whose attributes are stand-in classes: they can be subclassed (nn.Module), called
(torch.device("meta")), used as decorators (the function stays callable), subscripted and
combined with | in annotations. Real torchtitan classes deriving from them (Module
subclasses) keep their own fields and code; only what comes from torch is hollow. Nothing
here knows torchtitan: the config classes, registry functions and checks that run are the
vendored upstream files, unmodified."""
import abc, importlib.abc, importlib.machinery, sys, types

class _FakeMeta(abc.ABCMeta):
    def __getattr__(cls, name):
        if (name.startswith("__") and name.endswith("__")) or "_is_fake" not in cls.__dict__:
            raise AttributeError(name)
        if f"{cls.__qualname__}.{name}" in CONCRETE:
            return CONCRETE[f"{cls.__qualname__}.{name}"]
        return _fake(f"{cls.__qualname__}.{name}")
    def __or__(cls, other): return cls
    def __ror__(cls, other): return cls
    def __getitem__(cls, item): return cls
    def __call__(cls, *a, **k):
        if "_is_fake" not in cls.__dict__:
            return super().__call__(*a, **k)
        if len(a) == 1 and callable(a[0]) and not k and not isinstance(a[0], _FakeMeta):
            return a[0]          # used as a decorator: keep the function
        return super().__call__()
    def __iter__(cls): return iter(())
    def __bool__(cls): return True

class _Decorated:
    """A function under a stand-in decorator: still callable, with stand-in attributes."""
    def __init__(self, fn):
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "fn")
        self.__doc__ = getattr(fn, "__doc__", None)
    def __call__(self, *a, **k): return self.__wrapped__(*a, **k)
    def __get__(self, obj, owner=None):
        return self if obj is None else (lambda *a, **k: self.__wrapped__(obj, *a, **k))
    def __getattr__(self, name):
        if name.startswith("__"): raise AttributeError(name)
        return _fake(f"{self.__name__}.{name}")()

def _fake(qualname):
    c = _FakeMeta(qualname.rsplit(".", 1)[-1], (), {"__qualname__": qualname, "_is_fake": True,
        "__getattr__": lambda self, n: _fake(f"{qualname}().{n}"),
        "__call__": lambda self, *a, **k: (_Decorated(a[0]) if len(a) == 1 and callable(a[0]) and not k else _fake(qualname + "()")()),
        "__getitem__": lambda self, i: self, "__iter__": lambda self: iter(()),
        "__enter__": lambda self: self, "__exit__": lambda self, *a: False,
        "__or__": lambda s, o: s, "__ror__": lambda s, o: s})
    return c

# The few values torchtitan's config code compares or branches on: an NVIDIA GPU of
# compute capability 9.0 (H100), CUDA rather than ROCm.
CONCRETE = {
    "torch.cuda.get_device_capability": lambda *a, **k: (9, 0),
    "torch.cuda.is_available": lambda: True,
    "torch.version.hip": None,
}


class _FakeModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if f"{self.__name__}.{name}" in CONCRETE:
            return CONCRETE[f"{self.__name__}.{name}"]
        v = _fake(f"{self.__name__}.{name}")
        setattr(self, name, v)
        return v

class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots): self.roots = roots
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None
    def create_module(self, spec):
        m = _FakeModule(spec.name); m.__path__ = []; return m
    def exec_module(self, module): pass

def install(roots):
    sys.meta_path.append(_Finder(set(roots)))
