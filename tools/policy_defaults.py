#!/usr/bin/python3
"""Checks that every policy default has one home: runtime/policy/*.h.

A variant's policies reach the runtime as GMP_* defines (variants/
variant.bzl); each policy header holds the fallback of its defines, which is
the default (Go's choice). Nothing else may restate a default, and the lists
that name the policy classes must match the headers. This tool checks:

  1. every policy define that variant.bzl can pass has its fallback
     (`#ifndef GMP_X` / `#define GMP_X value`) in exactly one header of
     runtime/policy/, and no other runtime file has a fallback for it or
     tests it with defined();
  2. every policy parameter of gmp_variant defaults to None (no define, so
     the header's default applies);
  3. each allowed-names list of variant.bzl (`_STEAL_ORDERS = [...]  # steal_order.h`)
     names exactly the policy classes (kName) of that header, and the
     header's default is one of them; _CONTEXTS maps onto the values of
     GMP_CONTEXT_UCONTEXT;
  4. every spinning limit in spin.h says kAllowsSpinning (findrunnable
     reads it);
  5. .clusterfuzzlite/build.sh passes no policy define.

Usage: policy_defaults.py [ROOT]   prints each problem; exit 1 if any.
"""

import argparse
import glob
import os
import re
import sys

POLICY_DIR = "runtime/policy"
VARIANT_BZL = "variants/variant.bzl"
BUILD_SH = ".clusterfuzzlite/build.sh"

_FALLBACK = re.compile(r"^#ifndef (GMP_\w+)\s*\n#define \1[ \t]+(.+?)\s*$", re.M)
_DEFINED = re.compile(r"defined\s*\(?\s*(GMP_\w+)")
_KNAME = re.compile(r"(?:struct|class) (\w+) \{[^}]*?kName = \"(\w+)\"", re.S)
_LIST = re.compile(r"^(_[A-Z_]+) = \[([^\]]*)\]\s*#\s*([\w.]+\.h)", re.M)
_CONTEXTS = re.compile(r"^_CONTEXTS = \{([^}]*)\}\s*#\s*([\w.]+\.h): (GMP_\w+)", re.M)
_DEFINE_CALL = re.compile(r"_define\(defines, \"(GMP_\w+)\", (.*)\)\s*$", re.M)


def read_tree(root):
    """Returns {relative path: text} of the files the checks read."""
    files = {}
    patterns = ["runtime/*.h", "runtime/*.cc", "runtime/*.S", POLICY_DIR + "/*.h",
                VARIANT_BZL, BUILD_SH]
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern)):
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                files[rel] = f.read()
    return files


def policy_macros(bzl):
    """Returns {macro: parameter names its value uses} from variant.bzl."""
    macros = {}
    for macro, expr in _DEFINE_CALL.findall(bzl):
        expr = re.sub(r"\"[^\"]*\"", "", expr)  # drop format strings
        macros[macro] = set(re.findall(r"\b([a-z_]+)\b", expr)) - {"if", "else", "None"}
    return macros


def gmp_variant_defaults(bzl):
    """Returns {parameter: default text} of gmp_variant's signature."""
    m = re.search(r"def gmp_variant\((.*?)\):", bzl, re.S)
    if not m:
        return {}
    params = {}
    for part in m.group(1).split(","):
        if "=" in part:
            name, default = part.split("=", 1)
            params[name.strip()] = default.strip()
    return params


def check(files):
    """Returns a list of problems (strings) found in `files`."""
    problems = []
    bzl = files.get(VARIANT_BZL, "")
    if not bzl:
        return ["%s is missing" % VARIANT_BZL]
    headers = {p: t for p, t in files.items()
               if p.startswith(POLICY_DIR + "/") and p.endswith(".h")}
    macros = policy_macros(bzl)
    if not macros:
        problems.append("%s: no _define(defines, \"GMP_...\", ...) calls found" % VARIANT_BZL)

    # 1. One fallback per policy define, in a policy header, nowhere else.
    homes = {}
    for path, text in sorted(files.items()):
        for macro, value in _FALLBACK.findall(text):
            if macro not in macros:
                continue
            if path in headers:
                homes.setdefault(macro, []).append((path, value))
            else:
                problems.append("%s: a fallback for %s; its default belongs in %s/ only"
                                % (path, macro, POLICY_DIR))
        if path in headers or not path.startswith("runtime/"):
            continue
        for macro in set(_DEFINED.findall(text)) & set(macros):
            problems.append("%s: tests defined(%s); include its policy header instead"
                            % (path, macro))
    defaults = {}
    for macro in sorted(macros):
        found = homes.get(macro, [])
        if len(found) != 1:
            problems.append("%s: %d fallbacks in %s/*.h (%s); want exactly one"
                            % (macro, len(found), POLICY_DIR,
                               ", ".join(p for p, _ in found) or "none"))
        if found:
            defaults[macro] = found[0]

    # 2. Every policy parameter defaults to None.
    params = gmp_variant_defaults(bzl)
    for macro, names in sorted(macros.items()):
        for name in sorted(names & set(params)):
            if params[name] != "None":
                problems.append("%s: gmp_variant(%s = %s) restates %s's default; "
                                "make it None" % (VARIANT_BZL, name, params[name], macro))

    # 3. Allowed names match the header's policy classes.
    for var, body, header in _LIST.findall(bzl):
        path = "%s/%s" % (POLICY_DIR, header)
        if path not in headers:
            problems.append("%s: %s names %s, which does not exist" % (VARIANT_BZL, var, path))
            continue
        allowed = re.findall(r"\"(\w+)\"", body)
        classes = [name for cls, name in _KNAME.findall(headers[path])]
        for cls, name in _KNAME.findall(headers[path]):
            if cls != name:
                problems.append("%s: class %s has kName \"%s\"; a variant names "
                                "the class, so they must match" % (path, cls, name))
        if sorted(allowed) != sorted(classes):
            problems.append("%s: %s = %s, but %s declares %s"
                            % (VARIANT_BZL, var, sorted(allowed), path, sorted(classes)))
        for macro, (home, value) in defaults.items():
            if home == path and re.fullmatch(r"[A-Z]\w*", value) and value not in allowed:
                problems.append("%s: %s's default %s is not in %s" % (path, macro, value, var))
    m = _CONTEXTS.search(bzl)
    if not m:
        problems.append("%s: no _CONTEXTS = {...}  # header.h: GMP_... line" % VARIANT_BZL)
    else:
        values = re.findall(r":\s*(\d+)", m.group(1))
        macro = m.group(3)
        home = defaults.get(macro)
        if home is None or home[0] != "%s/%s" % (POLICY_DIR, m.group(2)):
            problems.append("%s: _CONTEXTS names %s/%s for %s, which holds no default of it"
                            % (VARIANT_BZL, POLICY_DIR, m.group(2), macro))
        elif home[1] not in values:
            problems.append("%s: %s's default %s is none of _CONTEXTS' values %s"
                            % (home[0], macro, home[1], values))

    # 4. Spinning limits carry kAllowsSpinning.
    spin = headers.get(POLICY_DIR + "/spin.h", "")
    for body in re.findall(r"struct \w+ \{.*?\n\};", spin, re.S):
        name = re.search(r"struct (\w+)", body).group(1)
        if "kName" in body and "kAllowsSpinning" not in body:
            problems.append("%s/spin.h: %s has no kAllowsSpinning" % (POLICY_DIR, name))

    # 5. build.sh builds go_default from the headers' defaults.
    for macro in re.findall(r"-D(GMP_\w+)", files.get(BUILD_SH, "")):
        if macro in macros:
            problems.append("%s: passes -D%s; go_default is the policy headers' defaults"
                            % (BUILD_SH, macro))
    return problems


def parser():
    """The command line: policy_defaults.py [ROOT]."""
    ap = argparse.ArgumentParser(
        prog="policy_defaults.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", metavar="ROOT", nargs="?",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                    help="the gmplab checkout (default: the one holding this file)")
    return ap


def main(argv):
    root = parser().parse_args(argv[1:]).root
    problems = check(read_tree(root))
    for p in problems:
        print("policy_defaults: " + p)
    if not problems:
        print("policy_defaults: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
