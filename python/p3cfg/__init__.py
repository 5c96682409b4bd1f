"""p3cfg: plan the parallelism of LLM training, from Python.

A thin layer over libp3cfg (ctypes, no compile step)::

    import p3cfg

    found = p3cfg.search("models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml",
                         top=3, zero=1)
    best = found["plans"][0]
    print(best["config"]["tp"], best["time"]["iteration_s"])
    print(p3cfg.export(found, to="megatron"))

`search` and `estimate` return the very dicts that ``p3cfg search|estimate --format
json`` prints (the library's own JSON writer makes both). Errors raise `p3cfg.Error`,
which carries the library's positioned message. `search` releases the GIL while the
library works. See docs/python.md.
"""

from __future__ import annotations

import ctypes
import difflib
import json
import math
import os
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from . import _native
from ._native import lib as _lib

__all__ = ["Error", "search", "estimate", "export", "library_version", "library_path",
           "EXPORT_FORMATS"]
__version__ = "0.1.0"

#: A model or cluster: a path to a YAML/JSON file, or a dict of the same keys.
Source = Union[str, "os.PathLike[str]", Mapping[str, Any]]

#: The launcher formats of `export`.
EXPORT_FORMATS = ("megatron", "torchtitan", "deepspeed", "rankfile", "hostfile")

#: Path of the libp3cfg that was loaded.
library_path: str = _native.library_path


def library_version() -> str:
    """The version of the loaded libp3cfg ("MAJOR.MINOR.PATCH")."""
    return _lib.p3cfg_version_string().decode()


class Error(Exception):
    """A failure reported by libp3cfg, with the library's positioned message.

    Attributes:
        code: the negative ``P3CFG_E*`` code (``p3cfg.Error.EVALUE``, ...).
        name: its symbolic name, e.g. ``"P3CFG_EVALUE"``.
        message: the library's one-line message, without the position.
        file: the input file the problem is in (``"<model dict>"`` for a dict input),
            or None when it is not about a file.
        line, column: 1-based position in that file; 0 when unknown.
        result: for ``P3CFG_EINFEASIBLE`` from `search`, the search document of the
            closest miss (what the CLI prints before exiting 3); None otherwise.

    ``str(error)`` is the CLI's error line without its ``p3cfg: `` prefix:
    ``FILE:LINE:COL: message``.
    """

    EINVALID = _native.EINVALID
    ESYNTAX = _native.ESYNTAX
    EVALUE = _native.EVALUE
    ENOTFOUND = _native.ENOTFOUND
    EPLAN = _native.EPLAN
    EINFEASIBLE = _native.EINFEASIBLE
    EIO = _native.EIO
    ENOMEM = _native.ENOMEM
    EUNSUPPORTED = _native.EUNSUPPORTED
    EINTERNAL = _native.EINTERNAL

    def __init__(self, code: int, message: str, file: Optional[str] = None, line: int = 0,
                 column: int = 0, result: Optional[Dict[str, Any]] = None) -> None:
        self.code = code
        self.name = _lib.p3cfg_error_name(code).decode()
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.result = result
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.file and self.line > 0:
            return f"{self.file}:{self.line}:{self.column}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message

    def __repr__(self) -> str:
        return f"p3cfg.Error({self.name}, {str(self)!r})"

    def __reduce__(self):  # picklable across processes
        return (Error, (self.code, self.message, self.file, self.line, self.column,
                        self.result))


def _error(rc: int) -> Error:
    """The Error for a failed call that returned rc, from this thread's last error."""
    code, message, file, line, column = _native.last_error()
    if not message:
        message = _lib.p3cfg_strerror(rc).decode()
    return Error(rc if rc else code, message, file, line, column)


# ---- inputs -------------------------------------------------------------------------

def _load(kind: str, source: Source) -> ctypes.c_void_p:
    """Load a model or cluster from a path or a dict; the caller frees the handle."""
    handle = ctypes.c_void_p()
    if isinstance(source, Mapping):
        # JSON is read by the same parser as YAML; positions refer to this text.
        text = json.dumps(source, indent=2).encode("utf-8")
        name = f"<{kind} dict>".encode()
        loader = getattr(_lib, f"p3cfg_{kind}_load_string")
        rc = loader(ctypes.byref(handle), text, len(text), name, None)
    elif isinstance(source, (str, bytes, os.PathLike)):
        rc = getattr(_lib, f"p3cfg_{kind}_load")(ctypes.byref(handle), os.fsencode(source),
                                                 None)
    else:
        raise TypeError(f"{kind} must be a path or a dict, not {type(source).__name__}")
    if rc:
        raise _error(rc)
    return handle


class _Inputs:
    """A loaded model and cluster, freed on exit."""

    def __init__(self, model: Source, cluster: Source) -> None:
        self.model = _load("model", model)
        try:
            self.cluster = _load("cluster", cluster)
        except BaseException:
            _lib.p3cfg_model_free(self.model)
            raise

    def __enter__(self) -> "_Inputs":
        return self

    def __exit__(self, *exc: object) -> None:
        _lib.p3cfg_cluster_free(self.cluster)
        _lib.p3cfg_model_free(self.model)


# ---- keyword arguments --------------------------------------------------------------

# Every knob: name -> (check, what the CLI calls it). Aliases map to these names.
_ALIASES = {
    "micro_batch": "mbs",
    "virtual_stages": "vpp",
    "sequence_parallel": "sp",
    "zero_stage": "zero",
    "max_micro_batch": "max_mbs",
    "with_time": "time",
}
_PLAN_KNOBS = ("gpus", "global_batch", "dp", "tp", "pp", "mbs", "vpp", "recompute", "sp",
               "zero", "stage_layers", "overlap", "framework", "dp_shard", "compile")
_PLACE_KNOBS = ("place", "seed", "place_moves", "place_max_s")
_SEARCH_KNOBS = frozenset(_PLAN_KNOBS + _PLACE_KNOBS + ("threads", "max_mbs", "place_top"))
_ESTIMATE_KNOBS = frozenset(_PLAN_KNOBS + _PLACE_KNOBS + ("time",))


def _keywords(func: str, given: Mapping[str, Any], allowed: frozenset) -> Dict[str, Any]:
    """Canonical name -> value; TypeError for an unknown or doubly given keyword."""
    names = sorted(allowed | {a for a, c in _ALIASES.items() if c in allowed})
    out: Dict[str, Any] = {}
    for key, value in given.items():
        name = _ALIASES.get(key, key)
        if name not in allowed:
            msg = f"{func}() got an unexpected keyword argument {key!r}"
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean {close[0]!r}?"
            elif name in _SEARCH_KNOBS | _ESTIMATE_KNOBS:
                other = "search" if func == "estimate" else "estimate"
                msg += f" (it is an option of {other}())"
            raise TypeError(msg)
        if name in out:
            raise TypeError(f"{func}() got {key!r} and another name for the same "
                            f"option ({name!r})")
        out[name] = value
    return out


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value <= 86400):
        raise ValueError(f"{name} must be in [0, 86400] seconds, got {value}")
    return float(value)


def _choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if value not in choices:
        msg = f"{name} must be one of {', '.join(choices)}; got {value!r}"
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        raise ValueError(msg)
    return value


def _recompute(value: Any) -> int:
    _choice("recompute", value, ("none", "selective", "full"))
    out = ctypes.c_int()
    if _lib.p3cfg_recompute_parse(ctypes.byref(out), value.encode()):
        raise _error(_native.EINVALID)
    return out.value


_OVERLAP_FLAGS = {"grad": _native.OVERLAP_GRAD_REDUCE, "param": _native.OVERLAP_PARAM_GATHER,
                  "tp": _native.OVERLAP_TP_COMM, "ep": _native.OVERLAP_EP_COMM}


def _overlap(value: Any) -> int:
    """None, "none", "grad,param" or an iterable of "grad", "param", "tp", "ep" -> flags."""
    if value is None or value == "none":
        return 0
    items = value.split(",") if isinstance(value, str) else list(value)
    flags = 0
    for item in items:
        flags |= _OVERLAP_FLAGS[_choice("overlap", item, _OVERLAP_FLAGS)]
    return flags


def _stage_layers(value: Any) -> Tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError("stage_layers must be a sequence of ints (layers per pipeline rank)")
    out = tuple(_int("stage_layers[]", v, 1, 1000000) for v in value)
    if not 1 <= len(out) <= _native.MAX_PP:
        raise ValueError(f"stage_layers must have 1 to {_native.MAX_PP} entries")
    return out


_U24 = 1 << 24
_U40 = 1 << 40


def _plan_knobs(k: Dict[str, Any]) -> Dict[str, Any]:
    """Checked values of the plan knobs given (what the CLI's constraint flags check)."""
    v: Dict[str, Any] = {}
    for name in ("dp", "tp", "pp", "mbs", "vpp"):
        if name in k:
            v[name] = _int(name, k[name], 1, _U24)
    for name in ("gpus", "global_batch"):
        if name in k:
            v[name] = _int(name, k[name], 1, _U40)
    if "recompute" in k:
        v["recompute"] = _recompute(k["recompute"])
    if "sp" in k:
        v["sp"] = int(_bool("sp", k["sp"]))
    if "zero" in k:
        v["zero"] = _int("zero", k["zero"], 0, 3)
    if "stage_layers" in k:
        v["stage_layers"] = _stage_layers(k["stage_layers"])
    v["overlap"] = _overlap(k.get("overlap"))
    # Issue 15: the framework ("megatron" by default), torchtitan's FSDP shard group and
    # torch.compile (on by default for torchtitan).
    v["framework"] = _native.FRAMEWORKS.index(
        _choice("framework", k.get("framework", "megatron"), _native.FRAMEWORKS))
    if "dp_shard" in k:
        v["dp_shard"] = _int("dp_shard", k["dp_shard"], 1, _U24)
    if "compile" in k:
        v["compile"] = int(_bool("compile", k["compile"]))
    return v


def _place_knobs(o: ctypes.Structure, k: Dict[str, Any]) -> None:
    if "place" in k:
        o.place = int(_bool("place", k["place"]))
    if "seed" in k:
        o.seed = _int("seed", k["seed"], 0, (1 << 64) - 1)
    if "place_moves" in k:
        o.place_moves = _int("place_moves", k["place_moves"], 0, 10**12)
    if "place_max_s" in k:
        o.place_max_s = _seconds("place_max_s", k["place_max_s"])


def _json_result(fill, *args: Any) -> Dict[str, Any]:
    buf = _native.Buffer()
    rc = fill(ctypes.byref(buf), *args)
    if rc:
        _lib.p3cfg_buffer_dispose(ctypes.byref(buf))
        raise _error(rc)
    return json.loads(_native.take_buffer(buf))


# ---- the API ------------------------------------------------------------------------

def search(model: Source, cluster: Source, top: int = 10, **constraints: Any
           ) -> Dict[str, Any]:
    """Every valid plan scored; the best `top` first, as ``p3cfg search --format json``.

    Args:
        model: a model file (YAML or JSON) or a dict of its keys (docs/formats.md).
        cluster: a cluster file or a dict of its keys.
        top: plans to keep, best first (1 to 1000).
        **constraints: fix a dimension (unset ones are searched), the CLI's flags with
            ``_`` for ``-``: ``gpus``, ``global_batch``, ``dp``, ``tp``, ``pp``, ``mbs``
            (or ``micro_batch``), ``vpp`` (``virtual_stages``), ``recompute`` ("none",
            "selective", "full"), ``sp`` (``sequence_parallel``, bool), ``zero``
            (``zero_stage``, 0-3), ``stage_layers`` (a list, one count per pipeline
            rank), ``overlap`` ("none", "grad,param" or a list of "grad", "param",
            "tp"), ``framework`` ("megatron" (default), "torchtitan", "deepspeed"),
            ``dp_shard`` (torchtitan's FSDP shard group; unset: searched), ``compile``
            (bool; torchtitan, default True); and ``threads`` (worker threads, default 1: the result does not
            depend on it), ``max_mbs`` (``max_micro_batch``, default 16), ``place``
            (place the best plans on the measured links, default True), ``place_top``,
            ``seed``, ``place_moves`` (placement move budget, 0 = default) and
            ``place_max_s`` (wall-time cap per placement, 0 = none).

    Returns:
        ``{"plans": [...], "evaluated", "valid", "feasible", "elapsed_s"}``: the dict
        the CLI prints, made by the same writer (p3cfg_result_search_json_flags, with the
        search's wall time in ``elapsed_s`` as ``--timings`` gives it).

    Raises:
        Error: a bad input file (``code`` ESYNTAX/EVALUE/EIO, with file, line and
            column), constraints that admit no valid plan (EPLAN), or nothing fits
            (EINFEASIBLE; ``result`` then holds the closest miss).
        TypeError: an unknown keyword (with a did-you-mean) or a value of a wrong type.
        ValueError: a value out of range.

    The GIL is released while the library searches, so other Python threads run (and
    several searches can run at once, one per thread).
    """
    k = _keywords("search", constraints, _SEARCH_KNOBS)
    top = _int("top", top, 1, 1000)
    v = _plan_knobs(k)
    so = _native.SearchOptions()
    _lib.p3cfg_search_options_init(ctypes.byref(so))
    assert so.version == _native.SEARCH_OPTIONS_VERSION
    so.top_k = top
    if "threads" in k:
        so.threads = _int("threads", k["threads"], 1, 256)
    if "max_mbs" in k:
        so.max_micro_batch = _int("max_mbs", k["max_mbs"], 1, 1 << 20)
    if "place_top" in k:
        so.place_top = _int("place_top", k["place_top"], 1, 1000)
    _place_knobs(so, k)
    so.gpus = v.get("gpus", 0)
    so.global_batch = v.get("global_batch", 0)
    so.dp, so.tp, so.pp = v.get("dp", 0), v.get("tp", 0), v.get("pp", 0)
    so.micro_batch = v.get("mbs", 0)
    so.virtual_stages = v.get("vpp", 0)
    so.recompute = v.get("recompute", -1)
    so.sequence_parallel = v.get("sp", -1)
    so.zero_stage = v.get("zero", -1)
    so.overlap = v["overlap"]
    so.framework = v["framework"]
    so.dp_shard = v.get("dp_shard", 0)
    so.compile = v.get("compile", -1)
    layers = v.get("stage_layers")
    layers_array = (_native.c_u32 * len(layers))(*layers) if layers else None
    if layers_array is not None:
        so.n_stage_layers = len(layers)
        so.stage_layers = ctypes.cast(layers_array, ctypes.POINTER(_native.c_u32))
    with _Inputs(model, cluster) as inp:
        result = ctypes.c_void_p()
        # A CDLL call: the GIL is released until the search returns.
        rc = _lib.p3cfg_search(ctypes.byref(result), inp.model, inp.cluster,
                               ctypes.byref(so))
        try:
            if rc == _native.EINFEASIBLE and result:
                err = _error(rc)
                err.result = _json_result(_lib.p3cfg_result_search_json_flags, result,
                                          inp.model, inp.cluster, _native.JSON_TIMINGS)
                raise err
            if rc:
                raise _error(rc)
            return _json_result(_lib.p3cfg_result_search_json_flags, result, inp.model,
                                inp.cluster, _native.JSON_TIMINGS)
        finally:
            _lib.p3cfg_result_free(result)


def estimate(model: Source, cluster: Source, **knobs: Any) -> Dict[str, Any]:
    """Memory per pipeline stage and time of one plan, as ``p3cfg estimate --format json``.

    Args:
        model: a model file (YAML or JSON) or a dict of its keys.
        cluster: a cluster file or a dict of its keys.
        **knobs: the plan, the CLI's flags with ``_`` for ``-``: ``tp``, ``pp``, ``dp``,
            ``mbs`` (``micro_batch``), ``vpp`` (``virtual_stages``), ``recompute``,
            ``sp`` (``sequence_parallel``), ``zero`` (``zero_stage``),
            ``stage_layers``, ``overlap``, ``gpus``, ``global_batch``, ``framework``,
            ``dp_shard``, ``compile``; unset ones take
            Megatron-LM's defaults (tp, pp, mbs, vpp 1, no recompute, no sp, zero 0,
            dp = GPUs / (tp*pp)). Also ``time`` (``with_time``: run the time model,
            default True), ``place`` (optimise the placement on the measured links,
            default False), ``seed``, ``place_moves``, ``place_max_s``.

    Returns:
        The plan object the CLI prints (p3cfg_result_plan_json): ``config``,
        ``memory`` (``fits`` is False for a plan that does not fit: that is not an
        error here, as the CLI prints it too), ``time``, ``placement``, ``model``,
        ``cluster``.

    Raises:
        Error: a bad input file, or an invalid plan (EPLAN, the rule that failed in
            the message).
        TypeError, ValueError: as for `search`, and for ``gpus`` that disagree with
            tp*pp or dp.
    """
    k = _keywords("estimate", knobs, _ESTIMATE_KNOBS)
    v = _plan_knobs(k)
    plan = _native.Plan()
    _lib.p3cfg_plan_init_framework(ctypes.byref(plan), v["framework"])
    assert plan.version == _native.PLAN_VERSION
    plan.dp_shard = v.get("dp_shard", 0)
    plan.compile = v.get("compile", plan.compile)
    plan.tp = v.get("tp", plan.tp)
    plan.pp = v.get("pp", plan.pp)
    plan.micro_batch = v.get("mbs", plan.micro_batch)
    plan.virtual_stages = v.get("vpp", plan.virtual_stages)
    plan.recompute = v.get("recompute", plan.recompute)
    plan.sequence_parallel = v.get("sp", plan.sequence_parallel)
    plan.zero_stage = v.get("zero", plan.zero_stage)
    plan.overlap = v["overlap"]
    plan.global_batch = v.get("global_batch", 0)
    plan.dp = v.get("dp", 0)
    if "gpus" in v:  # as the CLI: dp follows from the GPUs and tp*pp
        mp = plan.tp * plan.pp
        gpus = v["gpus"]
        if gpus % mp:
            raise ValueError(f"gpus {gpus} is not a multiple of tp*pp = {mp}")
        if "dp" in v and v["dp"] != gpus // mp:
            raise ValueError(f"dp {v['dp']} disagrees with gpus {gpus} / (tp*pp = {mp})")
        if gpus // mp > 0xFFFFFFFF:
            raise ValueError(f"gpus {gpus} gives more than 2^32 data-parallel ranks")
        plan.dp = gpus // mp
    layers = v.get("stage_layers", ())
    plan.n_stage_layers = len(layers)
    for i, n in enumerate(layers):
        plan.stage_layers[i] = n
    eo = _native.EstimateOptions()
    _lib.p3cfg_estimate_options_init(ctypes.byref(eo))
    assert eo.version == _native.ESTIMATE_OPTIONS_VERSION
    if "time" in k:
        eo.with_time = int(_bool("time", k["time"]))
    _place_knobs(eo, k)
    if eo.place and not eo.with_time:
        raise ValueError("place needs the time model: drop time=False")
    with _Inputs(model, cluster) as inp:
        result = ctypes.c_void_p()
        rc = _lib.p3cfg_estimate(ctypes.byref(result), inp.model, inp.cluster,
                                 ctypes.byref(plan), ctypes.byref(eo))
        try:
            if rc:
                raise _error(rc)
            return _json_result(_lib.p3cfg_result_plan_json, result, 0, inp.model,
                                inp.cluster)
        finally:
            _lib.p3cfg_result_free(result)


def export(plan: Source, to: str = "megatron", index: int = 0) -> str:
    """Launcher-ready text for one plan, as ``p3cfg export PLAN.json --to FORMAT``.

    Args:
        plan: what `search` or `estimate` returned (or the same JSON as a file path):
            a search document, whose plans are ranked, or one plan object.
        to: "megatron" (Megatron-LM arguments, a bash array), "torchtitan" (a TOML
            fragment), "deepspeed" (a config JSON), "rankfile" (Open MPI) or
            "hostfile" (host order and per-host CUDA_VISIBLE_DEVICES); docs/exports.md.
        index: which plan of a search document, from 0 (the best); the CLI's
            ``--plan index+1``.

    Returns:
        The text the CLI writes, byte for byte.

    Raises:
        Error: a plan document the library refuses (positioned), or a plan the target
            cannot express (EUNSUPPORTED, e.g. ZeRO-2 in Megatron-LM).
        ValueError: an unknown format. IndexError: no plan `index`.
    """
    _choice("to", to, EXPORT_FORMATS)
    index = _int("index", index, 0, 1 << 62)
    fmt = ctypes.c_int()
    if _lib.p3cfg_export_format_parse(ctypes.byref(fmt), to.encode()):
        raise _error(_native.EINVALID)
    handle = ctypes.c_void_p()
    if isinstance(plan, Mapping):
        text = json.dumps(plan, indent=2).encode("utf-8")
        rc = _lib.p3cfg_plan_file_load_string(ctypes.byref(handle), text, len(text),
                                              b"<plan dict>", None)
    elif isinstance(plan, (str, bytes, os.PathLike)):
        rc = _lib.p3cfg_plan_file_load(ctypes.byref(handle), os.fsencode(plan), None)
    else:
        raise TypeError(f"plan must be a dict or a path, not {type(plan).__name__}")
    if rc:
        raise _error(rc)
    try:
        n = _lib.p3cfg_plan_file_count(handle)
        if index >= n:
            raise IndexError(f"plan index {index}, but the document has {n} "
                             f"plan{'' if n == 1 else 's'}")
        buf = _native.Buffer()
        rc = _lib.p3cfg_export(ctypes.byref(buf), handle, index, fmt.value)
        if rc:
            _lib.p3cfg_buffer_dispose(ctypes.byref(buf))
            raise _error(rc)
        return _native.take_buffer(buf)
    finally:
        _lib.p3cfg_plan_file_free(handle)
