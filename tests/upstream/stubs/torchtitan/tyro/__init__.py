"""Stand-in for tyro (not a Debian package), as far as torchtitan b5bcd76c's config code
uses it: the annotations of Trainer.Config and ActivationCheckpointingConfig
(tyro.conf.Suppress, tyro.conf.subcommand), ConfigManager's rule registry, and tyro.cli,
which here returns the loaded config unchanged and refuses any command-line flag (the
p3cfg export carries everything in its config module, so it passes none)."""
from . import conf, constructors


def cli(config_cls, *, args=None, default=None, registry=None, **_):
    if args:
        raise SystemExit(f"stand-in tyro: no command-line flags are parsed here, got {args}")
    if default is None or not isinstance(default, config_cls):
        raise SystemExit(f"stand-in tyro: expected a {config_cls.__name__} default")
    return default
