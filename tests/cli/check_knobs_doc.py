#!/usr/bin/env python3
"""docs/cli.md's table of knobs is what `p3cfg --list-knobs` prints from the library's
knob table (src/common/knobs.c): the block between the knobs:begin and knobs:end markers,
byte for byte. On a difference, prints both and the command that regenerates the block."""
import argparse
import difflib
import subprocess
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    doc = (Path(a.root) / "docs" / "cli.md").read_text(encoding="utf-8")
    begin = doc.find("<!-- knobs:begin")
    end = doc.find("<!-- knobs:end -->")
    if begin < 0 or end < begin:
        print("docs/cli.md: no knobs:begin / knobs:end block", file=sys.stderr)
        return 1
    have = doc[doc.index("\n", begin) + 1:end]
    want = subprocess.run([a.p3cfg, "--list-knobs"], capture_output=True, text=True,
                          check=True).stdout
    if have == want:
        return 0
    sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), want.splitlines(True),
                                               "docs/cli.md", "p3cfg --list-knobs"))
    print("docs/cli.md's knob table differs from the library's: paste `p3cfg --list-knobs` "
          "between the markers", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
