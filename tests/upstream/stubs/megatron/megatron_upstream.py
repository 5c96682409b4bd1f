"""megatron_upstream.py - import the vendored Megatron-LM files (tests/upstream/megatron-lm/)
with stand-ins for what they import but a parse-and-validate run does not need.

    import megatron_upstream
    arguments = megatron_upstream.load()      # megatron.training.arguments, vendored
    args = megatron_upstream.parse(argv, env) # add_megatron_arguments + parse_args + validate_args

The vendored files are unmodified. Three kinds of stand-in, all in this folder:
  * torch/ (and packaging/): third-party packages, with only the attributes touched;
  * standins/<dotted.name>.py: Megatron modules that are not vendored, because they pull in
    the model, the process groups or the kernels, holding only the names the vendored files
    import; a package stand-in (megatron.core.transformer, megatron.training.config) loads
    the vendored submodules of its folder and re-exports what its real __init__.py does
    for the names used;
  * Megatron packages whose __init__.py is not vendored and has no stand-in are namespace
    packages, so that `import megatron.core.enums` does not run megatron/core/__init__.py.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENDORED = os.path.normpath(os.path.join(HERE, "..", "..", "megatron-lm"))
STANDINS = os.path.join(HERE, "standins")


class _StandinFinder(importlib.abc.MetaPathFinder):
    """A module named by a file standins/<name>.py loads from it; a package stand-in
    searches the vendored folder of its name for its submodules."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith("megatron"):
            return None
        file = os.path.join(STANDINS, name + ".py")
        if not os.path.exists(file):
            folder = os.path.join(VENDORED, *name.split("."))
            if os.path.isdir(folder) or not any(f.startswith(name + ".")
                                                for f in os.listdir(STANDINS)):
                return None
            # A package holding only stand-ins (megatron.core.transformer.heterogeneous).
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = []
            return spec
        folder = os.path.join(VENDORED, *name.split("."))
        pkg = [folder] if os.path.isdir(folder) else None
        return importlib.util.spec_from_file_location(name, file,
                                                      submodule_search_locations=pkg)


def _install():
    if getattr(_install, "done", False):
        return
    for p in (VENDORED, HERE):  # HERE first: torch/ and packaging/ are the stand-ins
        if p in sys.path:
            sys.path.remove(p)
        sys.path.insert(0, p)
    sys.meta_path.insert(0, _StandinFinder())
    _install.done = True


def load():
    _install()
    import megatron.training.arguments as arguments
    return arguments


# What pretrain_gpt.py's __main__ passes to parse_and_validate_args.
PRETRAIN_GPT_DEFAULTS = {"tokenizer_type": "GPT2BPETokenizer"}


def parse(argv, env):
    """Megatron-LM's own parse_args() on `argv` (the command line after pretrain_gpt.py)
    and validate_args() with pretrain_gpt.py's defaults, in the environment `env` (the
    variables a launcher sets: RANK, WORLD_SIZE, CUDA_DEVICE_MAX_CONNECTIONS, ...; every
    other variable that the validators read is removed for the call), then the
    TransformerConfig that pretrain_gpt.py builds from them
    (argument_utils.core_transformer_config_from_args), whose __post_init__ checks the
    model. Returns (args, config); raises what upstream raises (AssertionError,
    ValueError, SystemExit from argparse)."""
    arguments = load()
    from megatron.training.argument_utils import core_transformer_config_from_args
    saved_env, saved_argv = dict(os.environ), sys.argv
    try:
        for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "CUDA_DEVICE_MAX_CONNECTIONS",
                  "NVTE_CPU_OFFLOAD_V1", "SLURM_PROCID", "SLURM_NTASKS"):
            os.environ.pop(k, None)
        os.environ.update(env)
        sys.argv = ["pretrain_gpt.py"] + list(argv)
        args = arguments.parse_args()
        arguments.validate_args(args, dict(PRETRAIN_GPT_DEFAULTS))
        config = core_transformer_config_from_args(args)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
    return args, config
