"""The fuzz targets' names, read from FUZZ_TARGETS in fuzz/defs.bzl.

fuzz/defs.bzl is where Bazel learns the targets, so it is their one list;
the Python tools read it here rather than restating it. The shell scripts
that cannot read it (.clusterfuzzlite/build.sh, fuzz/tools/check_build_sh.sh)
keep a copy that tools/fuzz_targets_test.py compares with it.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFS_BZL = os.path.join("fuzz", "defs.bzl")

# `FUZZ_TARGETS = { ... }` at the top level, up to the first `}` at the start
# of a line; then each `"name": "source",` entry inside it.
_DICT = re.compile(r"^FUZZ_TARGETS\s*=\s*\{(.*?)^\}", re.M | re.S)
_ENTRY = re.compile(r'^\s*"(\w+)"\s*:\s*"[^"]+"\s*,?\s*(?:#.*)?$')


def parse(text):
    """Returns FUZZ_TARGETS' keys, in order, from the text of a defs.bzl.

    Raises ValueError when the dict is missing, empty, or holds a line that
    is not a `"name": "source",` entry or a comment.
    """
    m = _DICT.search(text)
    if not m:
        raise ValueError("no top-level FUZZ_TARGETS = {...} in %s" % DEFS_BZL)
    names = []
    for line in m.group(1).splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        e = _ENTRY.match(line)
        if not e:
            raise ValueError("%s: FUZZ_TARGETS: cannot read %r" % (DEFS_BZL, line.strip()))
        names.append(e.group(1))
    if not names:
        raise ValueError("%s: FUZZ_TARGETS is empty" % DEFS_BZL)
    return names


def names(root=ROOT):
    """Returns the fuzz targets' names, in FUZZ_TARGETS' order."""
    with open(os.path.join(root, DEFS_BZL)) as f:
        return parse(f.read())
