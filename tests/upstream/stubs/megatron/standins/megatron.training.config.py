"""Stand-in for megatron/training/config/__init__.py: the config dataclasses that
arguments.py turns into flags (ArgumentGroupFactory) come from the vendored
common_config.py, training_config.py, resilience_config.py and inference_config.py; the
containers (container.py, which imports the DDP and optimizer configs) and the
instantiation allow-list are only used to build a run from a YAML file, not here."""
from megatron.training.config.common_config import (  # noqa: F401
    DistributedInitConfig,
    ProfilingConfig,
    RNGConfig,
)
from megatron.training.config.inference_config import InferenceSetupConfig  # noqa: F401
from megatron.training.config.resilience_config import (  # noqa: F401
    FaultInjectorConfig,
    RerunStateMachineConfig,
    StragglerDetectionConfig,
)
from megatron.training.config.training_config import (  # noqa: F401
    CheckpointConfig,
    LoggerConfig,
    SchedulerConfig,
    TokenizerConfig,
    TrainingConfig,
    ValidationConfig,
)


class InferenceConfigContainer:
    """stand-in (container.py is not vendored)"""


class PretrainConfigContainer:
    """stand-in (container.py is not vendored)"""
