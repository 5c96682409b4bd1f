"""Stand-in for megatron/core/parallel_state.py (the process groups, set up by
torch.distributed at launch). Parsing and validating arguments happens before that;
pipeline_parallel_layer_layout.py asks it only when a model is built on a pipeline rank."""


def get_pipeline_model_parallel_rank():
    raise RuntimeError("stand-in: no process groups before the launch")


def get_virtual_pipeline_model_parallel_world_size():
    return None
