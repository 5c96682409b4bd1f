"""The ctypes structs of p3cfg._native have the C layout of include/p3cfg.h.

A C program compiled against the header prints the offset and size of every field the
package mirrors; a wrong field order or type would make the library read or write
the wrong bytes. Needs a C compiler ($CC, else cc), as the rest of the build does.
"""

import ctypes
import os
import shutil
import subprocess

import pytest

from p3cfg import _native

STRUCTS = {
    "p3cfg_error": _native.Error_,
    "p3cfg_buffer": _native.Buffer,
    "p3cfg_plan": _native.Plan,
    "p3cfg_search_options": _native.SearchOptions,
    "p3cfg_estimate_options": _native.EstimateOptions,
}


def test_structs_match_the_header(root, tmp_path):
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.fail(f"no C compiler ({cc}) to check the struct layouts with")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "p3cfg.h"',
             "int main(void) {"]
    want = []
    for cname, cls in STRUCTS.items():
        lines.append(f'  printf("{cname} %zu\\n", sizeof({cname}));')
        want.append(f"{cname} {ctypes.sizeof(cls)}")
        for field, *_ in cls._fields_:
            lines.append(f'  printf("{cname}.{field} %zu %zu\\n", offsetof({cname}, {field}), '
                         f"sizeof((({cname} *)0)->{field}));")
            desc = getattr(cls, field)
            want.append(f"{cname}.{field} {desc.offset} {desc.size}")
    lines += ["  return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", str(root / "include"), str(src), "-o", str(exe)],
                   check=True)
    got = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert got.splitlines() == want


def test_init_functions_fill_the_mirrored_fields():
    so = _native.SearchOptions()
    _native.lib.p3cfg_search_options_init(ctypes.byref(so))
    assert (so.version, so.top_k, so.threads, so.recompute, so.sequence_parallel,
            so.zero_stage, so.max_micro_batch, so.place, so.seed) == (
                _native.SEARCH_OPTIONS_VERSION, 10, 1, -1, -1, -1, 16, 1, 1)
    assert not so.stage_layers and so.progress is None
    assert not so.exclude_gpus and so.n_exclude_gpus == 0
    assert (so.cp, so.ep, so.etp) == (0, 0, 0), "searched"
    plan = _native.Plan()
    _native.lib.p3cfg_plan_init(ctypes.byref(plan))
    assert (plan.version, plan.dp, plan.tp, plan.pp, plan.micro_batch,
            plan.virtual_stages, plan.cp, plan.ep, plan.etp) == (5, 0, 1, 1, 1, 1, 1, 1, 0)
    assert plan.cpu_offload_layers == 0 and so.cpu_offload_layers == 0
    assert plan.split_accounts == 0 and so.split_accounts == 0
    eo = _native.EstimateOptions()
    _native.lib.p3cfg_estimate_options_init(ctypes.byref(eo))
    assert (eo.version, eo.with_time, eo.place, eo.seed) == (
        _native.ESTIMATE_OPTIONS_VERSION, 1, 0, 1)
    assert not eo.exclude_gpus and eo.n_exclude_gpus == 0
    assert (eo.cp, eo.ep, eo.etp) == (0, 0, 0), "the plan's"
