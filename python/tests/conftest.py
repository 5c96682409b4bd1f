"""Fixtures of the p3cfg Python tests.

The package under test is whatever `import p3cfg` finds: the source folder python/
with $P3CFG_LIBRARY pointing at the built library (ctest's `python` test), or the
package pip installed into a virtual environment (.ci/run). The CLI the results are
compared with is $P3CFG_CLI, else `p3cfg` on PATH, else build/p3cfg of this checkout;
without one the tests fail, they never skip.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the checkout: python/tests/ -> ../..


def _find_cli():
    given = os.environ.get("P3CFG_CLI")
    if given:
        return os.path.abspath(given)
    on_path = shutil.which("p3cfg")
    if on_path:
        return on_path
    built = ROOT / "build" / "p3cfg"
    return str(built) if built.is_file() else None


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli():
    """run(*args) -> CompletedProcess of the p3cfg command, from the checkout's root."""
    path = _find_cli()
    if not path:
        pytest.fail("no p3cfg CLI to compare with: set P3CFG_CLI (ctest does)")

    def run(*args, check_exit=None):
        p = subprocess.run([path, *map(str, args)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        if check_exit is not None:
            assert p.returncode == check_exit, (args, p.returncode, p.stderr)
        return p

    return run


def strip_timing(value):
    """A copy of a JSON document without its wall-clock keys (elapsed_s anywhere)."""
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if k != "elapsed_s"}
    if isinstance(value, list):
        return [strip_timing(v) for v in value]
    return value


def cli_json(cli, *args, exit_code=0):
    p = cli(*args, "--format", "json", check_exit=exit_code)
    return json.loads(p.stdout)
