#!/usr/bin/env python3
"""run_invalid.py - bad-input fixtures of `p3cfg validate` (python3 standard library only).

Each case is a pair in tests/invalid/:
  NAME.yaml or NAME.json   the input (a file, or for one case a directory; bytes that are
                           not UTF-8 are committed as they are);
  NAME.expected            the exact standard error of `p3cfg validate tests/invalid/NAME.yaml`
                           run from the repository root.
Every case must exit 1, print nothing on stdout, match NAME.expected byte for byte,
finish in under MAX_SECONDS and peak under MAX_RSS_KB of memory (measured with
/usr/bin/time when present: the parser's promise is that no input crashes, hangs, is slow
or takes much memory to refuse).

Cases named plan-*.json are plan files (the JSON of spec §6): they run as
`p3cfg export tests/invalid/NAME.json --to megatron` instead of validate.

A few inputs cannot be committed (a file over the size limit, an unreadable file, a
missing file, a path through a file, a FIFO); they are made in a temporary directory and checked against the
expected text in GENERATED below, where {path} stands for the file's path.

Every mismatch is printed as a unified diff; the last line is `N passed, M failed` and
the exit status is non-zero when anything failed. `--update` rewrites the .expected files
from the actual runs (review the diff before committing); `--filter PATTERN` runs the
cases whose name matches the shell glob PATTERN.

Registered in tests/CMakeLists.txt as the CTest `invalid_inputs`:
  run_invalid.py --p3cfg build/p3cfg --root .
"""

import argparse
import difflib
import fnmatch
import os
import stat
import subprocess
import sys
import tempfile
import time

MAX_SECONDS = 1.0
# The CLI itself takes about 4 MiB; a sanitizer build sets P3CFG_INVALID_MAX_RSS_KB.
MAX_RSS_KB = int(os.environ.get("P3CFG_INVALID_MAX_RSS_KB", 12 * 1024))
TIME = "/usr/bin/time"  # GNU time, for the peak memory of one run
CASE_DIR = os.path.join("tests", "invalid")
LIMIT_BYTES = 16 * 1024 * 1024  # P3CFG__MAX_INPUT_BYTES of src/parse/yaml_doc.h


def make_too_large(path):
    with open(path, "wb") as f:  # sparse: costs no disk
        f.truncate(LIMIT_BYTES + 1)


def make_unreadable(path):
    with open(path, "w") as f:
        f.write("name: m\n")
    os.chmod(path, 0)
    return os.geteuid() != 0  # root reads anything: skip the case


def make_fifo(path):
    os.mkfifo(path)


def make_missing(path):
    pass


def make_not_a_directory(path):
    # path is DIR/NAME.yaml: make DIR/NAME.yaml a file and test a path below it.
    with open(path, "w") as f:
        f.write("name: m\n")


# name -> (setup(path) returning False to skip, expected stderr)
GENERATED = {
    "generated-too-large": (
        make_too_large, "p3cfg: {path}: file is larger than the limit of 16 MiB\n"),
    "generated-unreadable": (
        make_unreadable, "p3cfg: {path}: cannot open file: permission denied\n"),
    "generated-fifo": (make_fifo, "p3cfg: {path}: not a regular file\n"),
    "generated-missing": (
        make_missing, "p3cfg: {path}: cannot open file: no such file or directory\n"),
    "generated-not-a-directory": (
        make_not_a_directory, "p3cfg: {path}/x.yaml: cannot open file: not a directory\n"),
}


def diff(label, expected, actual):
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"{label} (expected)", tofile=f"{label} (actual)")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def command(p3cfg, path):
    """The command line of a case: validate, or export for a plan file."""
    if os.path.basename(path).startswith("plan-"):
        return [p3cfg, "export", path, "--to", "megatron"]
    return [p3cfg, "validate", path]


def run(p3cfg, root, path):
    """Run the case's command from root: (exit, stdout, stderr, seconds, peak KiB or None).
    The peak comes from GNU time (a child's own getrusage would count the memory of this
    Python process, which the child shares until it execs)."""
    cmd = command(p3cfg, path)
    rss_file = None
    if os.access(TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="p3cfg-rss-")
        os.close(fd)
        cmd = [TIME, "-f", "%M", "-o", rss_file] + cmd
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, timeout=10 * MAX_SECONDS)
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - start, None
    finally:
        rss = None
        if rss_file:
            with open(rss_file, encoding="utf-8") as f:
                lines = f.read().split()
            os.unlink(rss_file)
            rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
    seconds = time.monotonic() - start
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"), seconds, rss)


def check(name, expected, result):
    """Problems of one run as a list of strings (empty when it passed)."""
    code, out, err, seconds, rss = result
    problems = []
    if code is None:
        return [f"{name}: did not finish within {10 * MAX_SECONDS:.0f} s"]
    if code != 1:
        problems.append(f"{name}: exit {code}, expected 1")
    if out:
        problems.append(f"{name}: unexpected stdout:\n{out}")
    if err != expected:
        problems.append(diff(f"{name} stderr", expected, err))
    if seconds >= MAX_SECONDS:
        problems.append(f"{name}: took {seconds:.2f} s (limit {MAX_SECONDS:.0f} s)")
    if rss is not None and rss > MAX_RSS_KB:
        problems.append(f"{name}: peak memory {rss} KiB (limit {MAX_RSS_KB} KiB)")
    return problems


def committed_cases(root):
    """(name, input path relative to root, .expected path) for every committed case."""
    cases = []
    for entry in sorted(os.listdir(os.path.join(root, CASE_DIR))):
        if not entry.endswith(".expected"):
            continue
        name = entry[: -len(".expected")]
        for ext in (".yaml", ".json"):
            rel = os.path.join(CASE_DIR, name + ext)
            if os.path.lexists(os.path.join(root, rel)):
                break
        else:
            rel = None
        cases.append((name, rel, os.path.join(root, CASE_DIR, entry)))
    # Inputs without an .expected are cases waiting for --update.
    names = {c[0] for c in cases}
    for entry in sorted(os.listdir(os.path.join(root, CASE_DIR))):
        base, ext = os.path.splitext(entry)
        if ext in (".yaml", ".json") and base not in names:
            cases.append((base, os.path.join(CASE_DIR, entry),
                          os.path.join(root, CASE_DIR, base + ".expected")))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True, help="the p3cfg binary")
    ap.add_argument("--root", required=True, help="repository root (working directory)")
    ap.add_argument("--update", action="store_true", help="rewrite the .expected files")
    ap.add_argument("--filter", help="run only cases matching this shell glob")
    args = ap.parse_args()
    p3cfg = os.path.abspath(args.p3cfg)
    root = os.path.abspath(args.root)
    passed = failed = 0

    for name, rel, expected_path in committed_cases(root):
        if args.filter and not fnmatch.fnmatchcase(name, args.filter):
            continue
        if rel is None:
            print(f"FAIL {name}: no {name}.yaml or {name}.json beside {name}.expected")
            failed += 1
            continue
        result = run(p3cfg, root, rel)
        if args.update:
            with open(expected_path, "wb") as f:
                f.write(result[2].encode("utf-8"))
        try:
            with open(expected_path, "rb") as f:
                expected = f.read().decode("utf-8")
        except FileNotFoundError:
            expected = ""
        problems = check(name, expected, result)
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(p, end="" if p.endswith("\n") else "\n")
        else:
            passed += 1

    with tempfile.TemporaryDirectory(prefix="p3cfg-invalid-") as tmp:
        for name, (setup, expected) in sorted(GENERATED.items()):
            if args.filter and not fnmatch.fnmatchcase(name, args.filter):
                continue
            path = os.path.join(tmp, name + ".yaml")
            if setup(path) is False:
                print(f"skip {name} (not meaningful for this user)")
                continue
            target = path + "/x.yaml" if name == "generated-not-a-directory" else path
            problems = check(name, expected.format(path=path), run(p3cfg, root, target))
            if os.path.exists(path) and not stat.S_ISFIFO(os.lstat(path).st_mode):
                os.chmod(path, 0o600)
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(p, end="" if p.endswith("\n") else "\n")
            else:
                passed += 1

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
