"""The Python examples of README.md and docs/python.md run as written."""

import os
import re
import subprocess
import sys

import pytest

import p3cfg
from conftest import ROOT

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def examples():
    for doc in ("README.md", "docs/python.md"):
        for i, code in enumerate(BLOCK.findall((ROOT / doc).read_text())):
            if code.startswith("import p3cfg"):  # not the signature summaries
                yield pytest.param(code, id=f"{doc}#{i}")


@pytest.mark.parametrize("code", list(examples()))
def test_example_runs(code, tmp_path):
    for folder in ("models", "clusters"):  # relative paths, as from the checkout's root
        os.symlink(ROOT / folder, tmp_path / folder)
    env = dict(os.environ)  # the p3cfg under test, wherever it was imported from
    here = os.path.dirname(os.path.dirname(os.path.abspath(p3cfg.__file__)))
    if "P3CFG_LIBRARY" in env:
        env["P3CFG_LIBRARY"] = p3cfg.library_path  # absolute
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout


def test_both_documents_have_an_example():
    assert {p.id.split("#")[0] for p in examples()} == {"README.md", "docs/python.md"}
