#!/usr/bin/env python3
"""run_golden.py - golden tests of the p3cfg command line (python3 standard library only).

Each case is a directory tests/cli/cases/<name>/ holding:
  cmd      one line: the arguments after `p3cfg`, split like a shell would (shlex), run
           with the repository root as working directory (so paths such as
           models/gpt3-175b.yaml work); an empty line runs `p3cfg` alone;
  stdout   expected standard output, byte for byte;
  stderr   expected standard error, byte for byte;
  exit     expected exit status (one integer);
  timeout  optional: seconds before the run counts as failed (default 10).

Every mismatch is printed as a unified diff; the last line is `N passed, M failed` and
the exit status is non-zero when anything failed. `--update` rewrites stdout, stderr and
exit from the actual run (review the diff before committing); `--filter PATTERN` runs
only the cases whose name matches the shell glob PATTERN (`help`, `estimate_*`).

Registered in tests/CMakeLists.txt as the CTest `cli_golden`:
  run_golden.py --p3cfg build/p3cfg --root .
"""

import argparse
import difflib
import fnmatch
import os
import shlex
import subprocess
import sys

DEFAULT_TIMEOUT_S = 10.0


def read_text(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8")
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def write_text(path, text):
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def matches(name, pattern):
    """A shell glob on the case name: `help` is that case alone, `estimate_*` a family."""
    return pattern is None or fnmatch.fnmatchcase(name, pattern)


def diff(label, expected, actual):
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"{label} (expected)", tofile=f"{label} (actual)")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def command_line(args):
    return " ".join(["p3cfg"] + [shlex.quote(a) for a in args])


def load_case(case_dir):
    """The case's argv tail and timeout; raises ValueError on a malformed case."""
    cmd_lines = [l for l in read_text(os.path.join(case_dir, "cmd")).splitlines() if l.strip()]
    if len(cmd_lines) > 1:
        raise ValueError("cmd must hold one line (an empty one runs p3cfg with no arguments)")
    args = shlex.split(cmd_lines[0]) if cmd_lines else []
    timeout_text = read_text(os.path.join(case_dir, "timeout"), default="").strip()
    timeout = float(timeout_text) if timeout_text else DEFAULT_TIMEOUT_S
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout_text!r}")
    return args, timeout


def run_case(p3cfg, root, case_dir, update):
    """Run one case; return (ok, report) where report explains a failure."""
    try:
        args, timeout = load_case(case_dir)
    except (OSError, ValueError) as e:
        return False, f"  malformed case: {e}\n"

    env = dict(os.environ)
    env["LC_ALL"] = "C"  # fixed number formatting whatever the caller's locale
    try:
        proc = subprocess.run([p3cfg] + args, cwd=root, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"  timed out after {timeout:g} s: {command_line(args)}\n"
    except OSError as e:
        return False, f"  cannot run {p3cfg}: {e}\n"
    actual = {
        "stdout": proc.stdout.decode("utf-8", errors="replace"),
        "stderr": proc.stderr.decode("utf-8", errors="replace"),
        "exit": f"{proc.returncode}\n",
    }

    if update:
        for key, text in actual.items():
            write_text(os.path.join(case_dir, key), text)
        return True, ""

    report = []
    for key in ("stdout", "stderr", "exit"):
        path = os.path.join(case_dir, key)
        try:
            expected = read_text(path)
        except FileNotFoundError:
            report.append(f"  missing {key} (run with --update to create it)\n")
            continue
        if key == "exit":
            try:
                same = int(expected.strip()) == proc.returncode
            except ValueError:
                report.append(f"  exit must hold an integer, got {expected.strip()!r}\n")
                continue
            if not same:
                report.append(f"  exit status: expected {expected.strip()}, "
                              f"got {proc.returncode}\n")
        elif expected != actual[key]:
            report.append(diff(key, expected, actual[key]))
    if report:
        report.insert(0, f"  command: {command_line(args)}\n")
    return not report, "".join(report)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Run the p3cfg CLI golden tests.")
    ap.add_argument("--p3cfg", required=True, help="path of the p3cfg executable")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(here)),
                    help="repository root: working directory of every case")
    ap.add_argument("--cases", default=os.path.join(here, "cases"),
                    help="directory holding one sub-directory per case")
    ap.add_argument("--filter", help="run only the cases whose name matches this shell glob")
    ap.add_argument("--update", action="store_true",
                    help="rewrite expected stdout/stderr/exit from the actual runs")
    args = ap.parse_args(argv)

    p3cfg = os.path.abspath(args.p3cfg)
    root = os.path.abspath(args.root)
    try:
        names = sorted(d for d in os.listdir(args.cases)
                       if os.path.isdir(os.path.join(args.cases, d)))
    except OSError as e:
        print(f"run_golden: {e}", file=sys.stderr)
        return 2
    names = [n for n in names if matches(n, args.filter)]

    passed = failed = 0
    for name in names:
        ok, report = run_case(p3cfg, root, os.path.join(args.cases, name), args.update)
        if ok:
            passed += 1
            print(f"{'updated' if args.update else 'ok'}   {name}")
        else:
            failed += 1
            print(f"FAIL {name}")
            sys.stdout.write(report)
    print(f"{passed} passed, {failed} failed")
    if not names:
        print("run_golden: no case matched", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
