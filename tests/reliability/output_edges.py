#!/usr/bin/env python3
"""output_edges.py - the output side at its edges (python3 standard library only).

Each check reproduces a fault of issue 17 §5 and must now pass:
  stdout      output lost on /dev/full or a closed stdout is exit 1 with a message, for
              every command (validate, --version, --help included); a command that
              writes nothing to a closed stdout loses nothing and still exits 0;
  special     -o onto something that exists but is no regular file: a FIFO or a
              character device is refused without --force; with --force a FIFO without
              a reader is an error at once (never a hang), a FIFO with a reader and
              /dev/null are written in place (the device node stays); a directory and
              a socket are refused even with --force; -o '' is a usage error (2);
  race        20 rounds of two `p3cfg search ... -o same.json` started together without
              --force: exactly one wins each round, the other says "already exists",
              and the file is the winner's complete output;
  signals     SIGINT and SIGTERM while a large -o file is being written: the process
              dies of that signal and leaves neither the temporary file nor the target.

Usage: output_edges.py --p3cfg build/p3cfg --root .
Registered in CTest as `reliability_output` (label cli). Exit 0 when every check passes.
"""

import argparse
import glob
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

MODEL = "models/megatron-1.7b.yaml"
CLUSTER = "clusters/dgx-a100-1n.yaml"
FAILED = []


def check(ok, label, detail=""):
    print(("ok   " if ok else "FAIL ") + label + ("" if ok or not detail else ": " + detail))
    if not ok:
        FAILED.append(label)


def run(p3cfg, root, args, timeout=30, **kw):
    try:
        if "stdout" not in kw:
            kw.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return subprocess.run([p3cfg] + args, cwd=root, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None


def estimate_args(out_args):
    return ["estimate", MODEL, CLUSTER, "--format", "json", "-q"] + out_args


def check_stdout(p3cfg, root, tmp):
    plan = os.path.join(tmp, "plan.json")
    with open(plan, "wb") as f:
        f.write(run(p3cfg, root, estimate_args([])).stdout)
    commands = [
        ["--version"], ["--help"], ["help"], ["validate", MODEL, CLUSTER], ["search", "--help"],
        ["validate", "--help"], ["estimate"] + estimate_args([])[1:],
        ["search", MODEL, CLUSTER, "--top", "2"], ["export", plan, "--to", "megatron"],
    ]
    for args in commands:
        label = "p3cfg " + " ".join(args).replace(tmp, "TMP").replace(root + "/", "")
        with open("/dev/full", "wb") as full:
            p = run(p3cfg, root, args, stdout=full, stderr=subprocess.PIPE)
        err = p.stderr.decode()
        check(p.returncode == 1 and "cannot write to standard output" in err,
              f"{label} > /dev/full: exit 1 and a message", f"exit {p.returncode}, {err!r}")
        p = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", p3cfg] + args, cwd=root,
                           capture_output=False, stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode()
        check(p.returncode == 1 and "cannot write to standard output" in err,
              f"{label} >&-: exit 1 and a message", f"exit {p.returncode}, {err!r}")
    # Nothing written to stdout, nothing lost.
    out = os.path.join(tmp, "closed.json")
    for args in (["validate", "-q", MODEL], estimate_args(["-o", out])):
        p = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", p3cfg] + args, cwd=root,
                           stderr=subprocess.PIPE, timeout=30)
        check(p.returncode == 0, "p3cfg " + " ".join(args).replace(tmp, "TMP") +
              " >&- (nothing on stdout): exit 0", f"exit {p.returncode}, {p.stderr!r}")


def check_special(p3cfg, root, tmp):
    expected = run(p3cfg, root, estimate_args([])).stdout
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    p = run(p3cfg, root, estimate_args(["-o", fifo]), timeout=10)
    check(p is not None and p.returncode == 1 and b"is a FIFO" in p.stderr and
          b"use --force" in p.stderr, "-o FIFO without --force: refused",
          "hung" if p is None else f"exit {p.returncode}, {p.stderr!r}")
    p = run(p3cfg, root, estimate_args(["-o", fifo, "--force"]), timeout=10)
    check(p is not None and p.returncode == 1 and b"nothing reads" in p.stderr,
          "-o FIFO --force without a reader: an error, not a hang",
          "hung" if p is None else f"exit {p.returncode}, {p.stderr!r}")
    got = []

    def reader():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    # The writer opens without blocking: it must find the reader there.
    for _ in range(100):
        p = run(p3cfg, root, estimate_args(["-o", fifo, "--force"]), timeout=10)
        if p is None or p.returncode == 0 or b"nothing reads" not in p.stderr:
            break
        time.sleep(0.05)
    t.join(10)
    check(p is not None and p.returncode == 0 and got == [expected],
          "-o FIFO --force with a reader: the reader gets the result",
          "hung" if p is None else f"exit {p.returncode}, {p.stderr!r}, {len(got)} reads")
    p = run(p3cfg, root, estimate_args(["-o", "/dev/null"]))
    check(p.returncode == 1 and b"character device" in p.stderr and b"use --force" in p.stderr,
          "-o /dev/null without --force: refused, naming --force", repr(p.stderr))
    p = run(p3cfg, root, estimate_args(["-o", "/dev/null", "--force"]))
    check(p.returncode == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode),
          "-o /dev/null --force: written into the device, the node stays",
          f"exit {p.returncode}, {p.stderr!r}")
    d = os.path.join(tmp, "dir")
    os.mkdir(d)
    for force in ([], ["--force"]):
        p = run(p3cfg, root, estimate_args(["-o", d] + force))
        check(p.returncode == 1 and b"is a directory" in p.stderr and os.path.isdir(d) and
              not os.listdir(tmp + "/dir"), f"-o DIRECTORY {' '.join(force)}: refused",
              f"exit {p.returncode}, {p.stderr!r}")
    sock_path = os.path.join(tmp, "sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock_path)
    p = run(p3cfg, root, estimate_args(["-o", sock_path, "--force"]))
    s.close()
    check(p.returncode == 1 and b"is a socket" in p.stderr, "-o SOCKET --force: refused",
          f"exit {p.returncode}, {p.stderr!r}")
    left = glob.glob(os.path.join(tmp, "*.tmp*")) + glob.glob("/dev/null.tmp*")
    check(not left, "no temporary file left by the refusals", repr(left))
    for args in (estimate_args(["-o", ""]), ["search", MODEL, CLUSTER, "-o", ""],
                 ["search", MODEL, CLUSTER, "--svg-links", ""],
                 ["export", "x.json", "--to", "megatron", "-o", ""]):
        p = run(p3cfg, root, args)
        check(p.returncode == 2 and b"needs a file name" in p.stderr,
              f"p3cfg {args[0]} ... {args[-2]} '': usage error (exit 2)",
              f"exit {p.returncode}, {p.stderr!r}")


def check_race(p3cfg, root, tmp, rounds=20):
    target = os.path.join(tmp, "same.json")
    args = ["search", MODEL, CLUSTER, "--top", "3", "--format", "json", "-q", "-o", target]
    expected = run(p3cfg, root, args[:-2]).stdout
    bad = []
    for k in range(rounds):
        if os.path.exists(target):
            os.unlink(target)
        procs = [subprocess.Popen([p3cfg] + args, cwd=root, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE) for _ in range(2)]
        results = [(p.wait(60), p.stderr.read()) for p in procs]
        for p in procs:
            p.stderr.close()
        wins = [r for r in results if r[0] == 0]
        losses = [r for r in results if r[0] == 1 and b"already exists" in r[1]]
        with open(target, "rb") as f:
            content = f.read()
        if len(wins) != 1 or len(losses) != 1 or content != expected:
            bad.append(f"round {k}: exits {[r[0] for r in results]}, "
                       f"{'same' if content == expected else 'other'} content")
    left = glob.glob(target + ".tmp*")
    check(not bad and not left, f"no-clobber race: exactly one of two writers wins "
          f"({rounds} rounds)", "; ".join(bad) + (f" left {left}" if left else ""))


def check_signals(p3cfg, root, tmp):
    # 262,144 GPUs: a plan object of about 28 MB (its placement), written with fsync.
    cluster = os.path.join(tmp, "c262k.yaml")
    with open(cluster, "w") as f:
        f.write("name: c262k\nnodes: 32768\ngpus_per_node: 8\ngpu: h100-sxm\nnetwork:\n"
                "  intra_node_GBps: 450\n  inter_node_GBps: 50\n")
    out_dir = os.path.join(tmp, "sig")
    os.mkdir(out_dir)
    target = os.path.join(out_dir, "big.json")
    args = ["estimate", "models/gpt3-175b.yaml", cluster, "--tp", "8", "--pp", "8",
            "--global-batch", "131072", "--format", "json", "-q", "-o", target]
    for sig in (signal.SIGINT, signal.SIGTERM):
        name = signal.Signals(sig).name
        caught = 0
        for attempt in range(6):
            for f in os.listdir(out_dir):
                os.unlink(os.path.join(out_dir, f))
            p = subprocess.Popen([p3cfg] + args, cwd=root, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            seen = False
            deadline = time.monotonic() + 60
            while p.poll() is None and time.monotonic() < deadline:
                if any(".tmp" in f for f in os.listdir(out_dir)):
                    seen = True
                    p.send_signal(sig)
                    break
                time.sleep(0.0005)
            rc = p.wait(60)
            left = os.listdir(out_dir)
            if not seen or rc != -sig:
                continue  # the write ended before the signal came: try again
            caught += 1
            check(not left, f"{name} during a large -o write: no temporary file, no "
                  f"target (exit {rc})", f"left {left}")
            break
        check(caught == 1, f"{name} arrived while the temporary file existed",
              "the write always finished first")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--only", choices=["stdout", "special", "race", "signals"])
    args = ap.parse_args()
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    tmp = tempfile.mkdtemp(prefix="p3cfg-output-edges-")
    try:
        for name, fn in (("stdout", check_stdout), ("special", check_special),
                         ("race", check_race), ("signals", check_signals)):
            if args.only in (None, name):
                sub = os.path.join(tmp, name)
                os.mkdir(sub)
                fn(p3cfg, root, sub)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
