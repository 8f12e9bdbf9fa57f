"""Runs Bazel for the Python tools (./harness bench, report and fuzz).

Every tool that builds or queries runs Bazel through `Bazel`, so that all of
them take the same environment:

  GMPLAB_BAZEL              the bazel binary (default `bazel`)
  GMPLAB_BAZEL_OUTPUT_BASE  passed as --output_base when set

BAZEL and BAZEL_OUTPUT_BASE, the names the fuzz campaign runner read before
(fuzz/mutate/run.py still reads only those), are read when the GMPLAB_ name
is unset.
"""

import os
import shlex
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BINARY_ENV = "GMPLAB_BAZEL"
OUTPUT_BASE_ENV = "GMPLAB_BAZEL_OUTPUT_BASE"
# Older names of the same settings, read when the GMPLAB_ one is unset.
ALIASES = {BINARY_ENV: "BAZEL", OUTPUT_BASE_ENV: "BAZEL_OUTPUT_BASE"}


def env_setting(name, environ=None):
    """Returns environment variable `name`, or its alias, or None (unset or empty)."""
    environ = os.environ if environ is None else environ
    return environ.get(name) or environ.get(ALIASES.get(name, "")) or None


class Bazel:
    """Runs Bazel in the workspace, with the binary and output base of the
    environment unless given."""

    def __init__(self, output_base=None, binary=None, root=ROOT):
        self.binary = binary or env_setting(BINARY_ENV) or "bazel"
        self.output_base = output_base or env_setting(OUTPUT_BASE_ENV)
        self.root = root

    def cmd(self, *args):
        """The command line for `bazel ARGS...`."""
        c = [self.binary]
        if self.output_base:
            c.append("--output_base=" + self.output_base)
        return c + list(args)

    def for_humans(self, *args):
        """cmd(*args) as one shell-quoted line, for logs and reproductions."""
        return " ".join(shlex.quote(c) for c in self.cmd(*args))

    def run(self, *args, capture=True):
        """Runs `bazel ARGS...` in the workspace; with capture, keeps its
        stdout and stderr (text) in the CompletedProcess."""
        return subprocess.run(self.cmd(*args), cwd=self.root, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None)

    def query(self, expr, output="label"):
        """`bazel query --output=OUTPUT EXPR`'s stdout; RuntimeError on failure."""
        r = self.run("query", "--output=" + output, expr)
        if r.returncode != 0:
            raise RuntimeError("bazel query %r failed:\n%s" % (expr, r.stderr[-2000:]))
        return r.stdout

    def bin_dir(self, config="opt"):
        """`bazel info --config=CONFIG bazel-bin`; RuntimeError on failure."""
        r = self.run("info", "--config=" + config, "bazel-bin")
        if r.returncode != 0:
            raise RuntimeError("bazel info failed:\n" + r.stderr[-2000:])
        return r.stdout.strip()
