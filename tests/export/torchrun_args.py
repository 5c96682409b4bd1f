"""torchrun_args.py - torchrun's command line, for checking the launch exports.

A mirror of `get_args_parser()` in torch/distributed/run.py (PyTorch, read at commit
010929fd3f401c3868310396e6a91ed95aa0305b): every option with its spellings, type,
default and choices, positional `training_script` and the REMAINDER of the training
script's arguments. torch's `env` / `check_env` actions (defaults from PET_* variables)
are plain store / store_true here: the exports pass every value they rely on. Also
`parse_min_max_nnodes` and the integer case of `determine_local_world_size`, which
torchrun applies to --nnodes and --nproc-per-node before launching.
"""

import argparse


def get_args_parser():
    p = argparse.ArgumentParser(description="Torch Distributed Elastic Training Launcher")
    a = p.add_argument
    a("--nnodes", type=str, default="1:1")
    a("--nproc-per-node", "--nproc_per_node", type=str, default="1")
    a("--rdzv-backend", "--rdzv_backend", type=str, default="static")
    a("--rdzv-endpoint", "--rdzv_endpoint", type=str, default="")
    a("--rdzv-id", "--rdzv_id", type=str, default="none")
    a("--rdzv-conf", "--rdzv_conf", type=str, default="")
    a("--standalone", action="store_true")
    a("--max-restarts", "--max_restarts", type=int, default=0)
    a("--monitor-interval", "--monitor_interval", type=float, default=0.1)
    a("--start-method", "--start_method", type=str, default="spawn",
      choices=["spawn", "fork", "forkserver"])
    a("--event-log-handler", "--event_log_handler", type=str, default="null")
    a("--role", type=str, default="default")
    a("-m", "--module", action="store_true")
    a("--no-python", "--no_python", action="store_true")
    a("--run-path", "--run_path", action="store_true")
    a("--log-dir", "--log_dir", type=str, default=None)
    a("-r", "--redirects", type=str, default="0")
    a("-t", "--tee", type=str, default="0")
    a("--local-ranks-filter", "--local_ranks_filter", type=str, default="")
    a("--node-rank", "--node_rank", type=int, default=0)
    a("--master-addr", "--master_addr", default="127.0.0.1", type=str)
    a("--master-port", "--master_port", default=29500, type=int)
    a("--local-addr", "--local_addr", default=None, type=str)
    a("--logs-specs", "--logs_specs", default=None, type=str)
    a("--numa-binding", "--numa_binding", type=str, default=None,
      choices=["node", "socket", "exclusive", "core-complex"])
    a("--signals-to-handle", "--signals_to_handle", type=str,
      default="SIGTERM,SIGINT,SIGHUP,SIGQUIT")
    a("training_script", type=str)
    a("training_script_args", nargs=argparse.REMAINDER)
    return p


def parse_min_max_nnodes(nnodes):
    arr = nnodes.split(":")
    if len(arr) == 1:
        return int(arr[0]), int(arr[0])
    if len(arr) == 2:
        return int(arr[0]), int(arr[1])
    raise RuntimeError(f'nnodes={nnodes} is not in "MIN:MAX" format')


class ParseError(Exception):
    pass


def parse(argv):
    """torchrun's parse of argv (a ParseError instead of argparse's exit)."""
    parser = get_args_parser()
    parser.error = lambda message: (_ for _ in ()).throw(ParseError(message))
    args = parser.parse_args(argv)
    args.min_nodes, args.max_nodes = parse_min_max_nnodes(args.nnodes)
    if not 0 < args.min_nodes <= args.max_nodes:
        raise ParseError(f"--nnodes {args.nnodes}")
    args.local_world_size = int(args.nproc_per_node)  # the exports write a number
    return args
