"""ctypes mirror of the part of include/p3cfg.h the package uses.

The structs below copy the C layout of p3cfg_plan (version 5), p3cfg_search_options
and p3cfg_estimate_options field for field (tests/test_layout.py compiles a C program
against the header and compares every offset). The library is loaded with
ctypes.CDLL, never PyDLL: CPython releases the GIL around every call of a CDLL
function, so a long p3cfg_search lets the other Python threads run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Optional

MAX_PP = 1024
PLAN_VERSION = 5
SEARCH_OPTIONS_VERSION = 7
ESTIMATE_OPTIONS_VERSION = 4
#: The library versions whose struct layouts this module mirrors (major, minor).
ABI_VERSION = (0, 1)
JSON_TIMINGS = 1  # P3CFG_JSON_TIMINGS

OVERLAP_GRAD_REDUCE = 1 << 0
OVERLAP_PARAM_GATHER = 1 << 1
OVERLAP_TP_COMM = 1 << 2
OVERLAP_EP_COMM = 1 << 3

# enum p3cfg_framework
FRAMEWORK_MEGATRON = 0
FRAMEWORK_TORCHTITAN = 1
FRAMEWORK_DEEPSPEED = 2
FRAMEWORKS = ("megatron", "torchtitan", "deepspeed")

# enum p3cfg_error_code
OK = 0
EINVALID = -1
ESYNTAX = -2
EVALUE = -3
ENOTFOUND = -4
EPLAN = -5
EINFEASIBLE = -6
EIO = -7
ENOMEM = -8
EMPI = -9
EUNSUPPORTED = -10
EINTERNAL = -11

c_u32 = ctypes.c_uint32
c_u64 = ctypes.c_uint64


class Error_(ctypes.Structure):
    """p3cfg_error."""

    _fields_ = [
        ("code", ctypes.c_int),
        ("message", ctypes.c_char_p),
        ("file", ctypes.c_char_p),
        ("line", ctypes.c_int),
        ("column", ctypes.c_int),
    ]


class Buffer(ctypes.Structure):
    """p3cfg_buffer (data is read with ctypes.string_at, never as c_char_p)."""

    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Plan(ctypes.Structure):
    """p3cfg_plan, version 5."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("dp", c_u32),
        ("tp", c_u32),
        ("pp", c_u32),
        ("micro_batch", c_u32),
        ("virtual_stages", c_u32),
        ("recompute", ctypes.c_int),  # enum p3cfg_recompute
        ("sequence_parallel", ctypes.c_int),
        ("zero_stage", c_u32),
        ("overlap", c_u32),
        ("global_batch", c_u64),
        ("n_stage_layers", c_u32),
        ("stage_layers", c_u32 * MAX_PP),
        ("cp", c_u32),  # version 2 (API 4)
        ("ep", c_u32),
        ("etp", c_u32),
        ("framework", c_u32),  # version 3 (API 6): enum p3cfg_framework
        ("dp_shard", c_u32),
        ("compile", c_u32),
        ("recompute_modules", c_u32),  # P3CFG_RECOMPUTE_MODULE_* flags (issue 16)
        ("cpu_offload_layers", c_u32),  # version 4 (API 7)
        ("split_accounts", c_u32),  # version 5 (API 8): P3CFG_SPLIT_ACCOUNT_* flags
    ]


class SearchOptions(ctypes.Structure):
    """p3cfg_search_options, version 7."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("top_k", c_u32),
        ("threads", c_u32),
        ("gpus", c_u64),
        ("global_batch", c_u64),
        ("dp", c_u32),
        ("tp", c_u32),
        ("pp", c_u32),
        ("micro_batch", c_u32),
        ("virtual_stages", c_u32),
        ("recompute", ctypes.c_int),
        ("sequence_parallel", ctypes.c_int),
        ("zero_stage", ctypes.c_int),
        ("overlap", c_u32),
        ("max_micro_batch", c_u32),
        ("n_stage_layers", c_u32),
        ("stage_layers", ctypes.POINTER(c_u32)),
        ("place", ctypes.c_int),
        ("place_top", c_u32),
        ("seed", c_u64),
        ("place_moves", c_u64),
        ("place_max_s", ctypes.c_double),
        ("progress", ctypes.c_void_p),  # void (*)(void *, double); NULL here
        ("progress_payload", ctypes.c_void_p),
        ("exclude_gpus", ctypes.POINTER(c_u32)),  # version 2
        ("n_exclude_gpus", ctypes.c_size_t),
        ("mem_margin_bytes", c_u64),  # version 3
        ("mem_margin_fraction", ctypes.c_double),
        ("train_tokens", c_u64),
        ("cp", c_u32),  # version 4
        ("ep", c_u32),
        ("etp", c_u32),
        ("framework", c_u32),  # version 5
        ("dp_shard", c_u32),
        ("compile", ctypes.c_int),
        ("recompute_modules", c_u32),
        ("cpu_offload_layers", c_u32),  # version 6
        ("split_accounts", c_u32),  # version 7
    ]


class EstimateOptions(ctypes.Structure):
    """p3cfg_estimate_options, version 3."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("with_time", ctypes.c_int),
        ("place", ctypes.c_int),
        ("seed", c_u64),
        ("place_moves", c_u64),
        ("place_max_s", ctypes.c_double),
        ("exclude_gpus", ctypes.POINTER(c_u32)),  # version 2
        ("n_exclude_gpus", ctypes.c_size_t),
        ("mem_margin_bytes", c_u64),  # version 3
        ("mem_margin_fraction", ctypes.c_double),
        ("train_tokens", c_u64),
        ("cp", c_u32),  # version 4
        ("ep", c_u32),
        ("etp", c_u32),
    ]


_P = ctypes.c_void_p  # every opaque handle
_PP = ctypes.POINTER(ctypes.c_void_p)

# name: (restype, argtypes)
_SIGNATURES = {
    "p3cfg_version_string": (ctypes.c_char_p, []),
    "p3cfg_error_last": (ctypes.POINTER(Error_), []),
    "p3cfg_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "p3cfg_error_name": (ctypes.c_char_p, [ctypes.c_int]),
    "p3cfg_model_load": (ctypes.c_int, [_PP, ctypes.c_char_p, _P]),
    "p3cfg_model_load_string": (
        ctypes.c_int, [_PP, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, _P]),
    "p3cfg_model_free": (None, [_P]),
    "p3cfg_cluster_load": (ctypes.c_int, [_PP, ctypes.c_char_p, _P]),
    "p3cfg_cluster_load_string": (
        ctypes.c_int, [_PP, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, _P]),
    "p3cfg_cluster_free": (None, [_P]),
    "p3cfg_plan_init": (None, [ctypes.POINTER(Plan)]),
    "p3cfg_plan_init_framework": (None, [ctypes.POINTER(Plan), ctypes.c_int]),
    "p3cfg_recompute_parse": (ctypes.c_int, [ctypes.POINTER(ctypes.c_int), ctypes.c_char_p]),
    "p3cfg_search_options_init": (None, [ctypes.POINTER(SearchOptions)]),
    "p3cfg_estimate_options_init": (None, [ctypes.POINTER(EstimateOptions)]),
    "p3cfg_search": (ctypes.c_int, [_PP, _P, _P, ctypes.POINTER(SearchOptions)]),
    "p3cfg_estimate": (
        ctypes.c_int, [_PP, _P, _P, ctypes.POINTER(Plan), ctypes.POINTER(EstimateOptions)]),
    "p3cfg_result_free": (None, [_P]),
    "p3cfg_result_count": (ctypes.c_size_t, [_P]),
    "p3cfg_buffer_dispose": (None, [ctypes.POINTER(Buffer)]),
    "p3cfg_result_plan_json": (
        ctypes.c_int, [ctypes.POINTER(Buffer), _P, ctypes.c_size_t, _P, _P]),
    "p3cfg_result_search_json": (ctypes.c_int, [ctypes.POINTER(Buffer), _P, _P, _P]),
    "p3cfg_result_search_json_flags": (ctypes.c_int,
                                       [ctypes.POINTER(Buffer), _P, _P, _P, ctypes.c_uint]),
    "p3cfg_plan_file_load": (ctypes.c_int, [_PP, ctypes.c_char_p, _P]),
    "p3cfg_plan_file_load_string": (
        ctypes.c_int, [_PP, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, _P]),
    "p3cfg_plan_file_free": (None, [_P]),
    "p3cfg_plan_file_count": (ctypes.c_size_t, [_P]),
    "p3cfg_export_format_parse": (ctypes.c_int, [ctypes.POINTER(ctypes.c_int), ctypes.c_char_p]),
    "p3cfg_export": (
        ctypes.c_int, [ctypes.POINTER(Buffer), _P, ctypes.c_size_t, ctypes.c_int]),
}

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUNDLED = os.path.join(_HERE, "libp3cfg.so.0")


def _candidates() -> list:
    """Where the library is looked for, in order."""
    env = os.environ.get("P3CFG_LIBRARY")
    if env:  # given explicitly: that one or nothing
        return [os.path.abspath(env) if os.sep in env else env]
    out = []
    if os.path.exists(_BUNDLED):
        out.append(_BUNDLED)
    out.append("libp3cfg.so.0")  # the system's loader: an installed libp3cfg
    found = ctypes.util.find_library("p3cfg")
    if found:
        out.append(found)
    return out


def _load() -> "tuple[ctypes.CDLL, str]":
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
            continue
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        version = lib.p3cfg_version_string().decode()
        major_minor = tuple(int(x) for x in version.split(".")[:2])
        if major_minor != ABI_VERSION:
            errors.append(f"{path}: libp3cfg {version}, but this package mirrors the "
                          f"structs of {ABI_VERSION[0]}.{ABI_VERSION[1]}")
            continue
        return lib, path
    raise ImportError("p3cfg: cannot load libp3cfg (set P3CFG_LIBRARY to its path): "
                      + "; ".join(errors))


lib, library_path = _load()


def take_buffer(buf: Buffer) -> str:
    """The text of a library-filled buffer, which is disposed of."""
    try:
        return ctypes.string_at(buf.data, buf.len).decode("utf-8") if buf.data else ""
    finally:
        lib.p3cfg_buffer_dispose(ctypes.byref(buf))


def last_error() -> "tuple[int, str, Optional[str], int, int]":
    """(code, message, file, line, column) of this thread's last error."""
    e = lib.p3cfg_error_last().contents
    message = e.message.decode("utf-8", "replace") if e.message else ""
    file = e.file.decode("utf-8", "replace") if e.file else None
    return e.code, message, file, e.line, e.column
