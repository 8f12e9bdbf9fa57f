#!/usr/bin/python3
"""gmplab memory-order mutation sites: the scanner and the mutator.

    fuzz/mutate/sites.py scan  [--root DIR]          print the sites as JSON
    fuzz/mutate/sites.py write [--root DIR]          rewrite sites.json and mutants.bzl
    fuzz/mutate/sites.py check [--root DIR]          exit 1 if either is stale
    fuzz/mutate/sites.py apply --site ID --order O --out FILE SRC...
                                                      one mutant's unity source
    fuzz/mutate/sites.py schema --out FILE --header-out FILE SRC...
                                                      every mutant in one build

A *site* is one atomic operation of runtime/*.cc or runtime/*.h (tests
excluded) whose memory order is not relaxed: a call of load, store,
exchange, compare_exchange_weak/strong or fetch_add/sub/and/or/xor with an
explicit std::memory_order_{consume,acquire,release,acq_rel,seq_cst}, the
same call with no order at all on a name declared std::atomic in the
runtime (the implicit seq_cst default), or std::atomic_thread_fence.

Its id is `<file>:<function>#<n>`: the file's name, the enclosing
function (qualified by the classes around it, e.g. `RunQueue::StealFrom`),
and the site's ordinal among that function's sites. Line numbers are
reported but are not part of the id, so an edit elsewhere in the file keeps
every id; moving a function to another file changes its sites' ids, and
`check` (//fuzz/mutate:sites_test) then says to rerun `write`.

What the scanner cannot see (it parses text, not C++):
  * operator forms on std::atomic: `x = v`, `x++`, `x += n`, and the
    implicit load of `if (x)` / `int v = x;`. Assignments and increments on
    names declared std::atomic are listed under "operator_forms" in
    sites.json (not mutated); implicit conversions are not found at all;
  * a memory order passed through a variable or parameter (listed under
    "dynamic_orders", not mutated);
  * atomics behind aliases or templates it has no declaration for (a call
    without an order is a site only when its receiver's name is declared
    std::atomic<...> somewhere in runtime/).
Sites only compiled into canary variants (inside `#if defined(GMP_CANARY_*)`)
are left out: go_default does not contain them.

Weakening (one mutant per site): seq_cst -> acq_rel (read-modify-write and
fences), acquire (loads), release (stores); consume, acquire, release and
acq_rel -> relaxed. A compare_exchange with two orders mutates the success
order and lowers the failure order to what the new success order allows
(never stronger than its load part: relaxed for relaxed and release,
acquire for acquire and acq_rel). A compare_exchange with no order becomes
(acq_rel, acquire).

Dekker / StoreLoad: ThreadSanitizer models happens-before, not store
buffering: its atomics take seq_cst as acq_rel, and it ignores
atomic_thread_fence altogether. So no seq_cst weakening can be caught by
the TSan fuzzers however long they run; where only a StoreLoad ordering
depends on the seq_cst (the spinning protocol: submit, StoreLoad, read
nmspinning) the reason names the pattern, elsewhere it says that TSan
cannot tell the orders apart. Such sites carry "needs_model_checker" with
the reason; a survivor there means "not testable here", not "safe".
"""

import argparse
import bisect
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITES_JSON = "fuzz/mutate/sites.json"
MUTANTS_BZL = "fuzz/mutate/mutants.bzl"

LOADS = {"load"}
STORES = {"store"}
RMWS = {"exchange", "compare_exchange_weak", "compare_exchange_strong",
        "fetch_add", "fetch_sub", "fetch_and", "fetch_or", "fetch_xor"}
FENCES = {"atomic_thread_fence", "atomic_signal_fence"}
ORDERS = ["relaxed", "consume", "acquire", "release", "acq_rel", "seq_cst"]

# Words that make a site part of a StoreLoad (Dekker) pattern when they
# appear in its enclosing function's name or in the comments just above it.
DEKKER_FUNCTIONS = {"StoreLoad", "WakeIfNeeded"}
DEKKER_WORDS = re.compile(r"StoreLoad|Dekker|store[- ]load|full barrier|"
                          r"spinning protocol", re.IGNORECASE)
# The counters of the spinning protocol: a seq_cst operation on them is
# one side of the submitter/spinner StoreLoad (runtime/proc.cc's essay).
DEKKER_VARIABLES = {"nmspinning", "npidle", "sysmon_wait"}
# (function, object) pairs whose StoreLoad is described at the other side's
# comment: StopTheWorld stores gcwaiting then loads syscall_m, entersyscall
# the reverse (runtime/syscall.cc).
DEKKER_PAIRS = {("StopTheWorld", "gcwaiting"), ("StopTheWorld", "syscall_m")}
COMMENT_WINDOW = (10, 3)  # lines above and below a site searched for DEKKER_WORDS

KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "sizeof",
            "alignof", "decltype", "static_assert", "noexcept", "alignas",
            "requires", "defined", "__attribute__", "asm"}

ORDER_RE = re.compile(r"^std::memory_order(?:_|::)(\w+)$")
CALL_RE = re.compile(r"(\.|->)\s*(%s)\s*\(" % "|".join(
    sorted(LOADS | STORES | RMWS, key=len, reverse=True)))
FENCE_RE = re.compile(r"(?:std::)?\b(%s)\s*\(" % "|".join(sorted(FENCES)))
DECL_RE = re.compile(r"std::atomic\s*<")


# ----------------------------------------------------------------------------
# Text


def read_text(path):
    with open(path) as f:
        return f.read()


def strip(text):
    """`text` with comments, string and character literals blanked (same
    length, newlines kept), so offsets and line numbers still match."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def matching(code, i, open_c="(", close_c=")"):
    """Index of the bracket that closes the one at code[i]."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_c:
            depth += 1
        elif code[j] == close_c:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced %s at offset %d" % (open_c, i))


def split_args(code, a, b):
    """Top-level comma-separated argument spans of code[a:b]."""
    spans, depth, start = [], 0, a
    for j in range(a, b):
        c = code[j]
        if c in "([{<" and not (c == "<" and code[j - 1:j + 1] == "<<"):
            depth += c != "<"
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            spans.append((start, j))
            start = j + 1
    if code[start:b].strip():
        spans.append((start, b))
    return spans


def trimmed(code, span):
    a, b = span
    while a < b and code[a].isspace():
        a += 1
    while b > a and code[b - 1].isspace():
        b -= 1
    return a, b


class Lines:
    def __init__(self, text):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def of(self, offset):
        return bisect.bisect_right(self.starts, offset)


# ----------------------------------------------------------------------------
# Scopes and the preprocessor


IDENT_BEFORE = re.compile(r"(~?[A-Za-z_]\w*(?:\s*::\s*~?[A-Za-z_]\w*)*)\s*$")
TRAILER = re.compile(r"(?:\b(?:const|noexcept|override|final|mutable)|"
                     r"\b[A-Z][A-Z0-9_]+(?:\s*\([^()]*\))?)\s*$")
CLASS_HEAD = re.compile(r"\b(?:class|struct|union)\s+([^;(){}]*)$")


def open_paren(body):
    """Index of the '(' matching body's final ')'."""
    depth = 0
    for j in range(len(body) - 1, -1, -1):
        if body[j] == ")":
            depth += 1
        elif body[j] == "(":
            depth -= 1
            if depth == 0:
                return j
    return -1


def class_name(head):
    """`Name` of `alignas(64) ABSL_LOCKABLE Name final : public Base`."""
    head = re.sub(r"alignas\s*\([^)]*\)", " ", head.split(":")[0] if "::" not in head
                  else re.split(r"(?<!:):(?!:)", head)[0])
    words = [w for w in re.findall(r"[A-Za-z_][\w:]*", head)
             if w != "final" and not re.fullmatch(r"[A-Z][A-Z0-9_]+", w)]
    return words[-1].split("::")[-1] if words else None


def classify_brace(code, i):
    """('function', name) / ('class', name) / ('namespace', name) /
    ('block', None) for the `{` at code[i]."""
    head = code[max(0, i - 600):i]
    # The statement's start: after the last ; { } before it.
    cut = max(head.rfind(";"), head.rfind("{"), head.rfind("}"))
    stmt = head[cut + 1:]
    stmt_nt = re.sub(r"template\s*<[^{};]*?>\s*(?=class|struct|union|\w)", " ", stmt)
    m = CLASS_HEAD.search(stmt_nt)
    if m and "=" not in m.group(1):
        name = class_name(m.group(1))
        if name:
            return "class", name
    m = re.search(r"\bnamespace\s*([A-Za-z_][\w:]*)?\s*$", stmt)
    if m:
        return "namespace", m.group(1) or ""
    if re.search(r"\bextern\s*$", stmt):
        return "namespace", ""
    body = re.sub(r"->\s*[\w:<>*&\s]+$", "", stmt).rstrip()  # trailing return type
    while True:
        t = TRAILER.search(body)
        if not t or t.start() == 0:
            break
        rest = body[:t.start()].rstrip()
        if not rest.endswith(")"):
            break
        body = rest
    if not body.endswith(")"):
        return "block", None
    j = open_paren(body)
    if j < 0:
        return "block", None
    before = body[:j].rstrip()
    op = re.search(r"\boperator\s*(\(\)|\[\]|[^\w\s()]+)$", before)
    if op:
        return "function", "operator" + op.group(1)
    m = IDENT_BEFORE.search(before)
    if not m:
        return "block", None
    name = re.sub(r"\s+", "", m.group(1))
    last = name.split("::")[-1]
    prev = before[:m.start()].rstrip()
    if last in KEYWORDS or prev.endswith(("]", ".", "->", "=", "(", "return")):
        return "block", None
    if prev.endswith((":", ",")) and not prev.endswith(
            ("::", "public:", "private:", "protected:")):
        return "block", None  # a constructor's member initialiser
    return "function", name


class Scanner:
    """Walks one file's stripped text and yields atomic operations with
    their function, preprocessor conditions and line."""

    def __init__(self, path, text):
        self.path = path
        self.text = text
        self.code = strip(text)
        self.lines = Lines(text)
        self.code = self._blank_directives()

    def _blank_directives(self):
        """Records the #if/#else regions and blanks every directive line."""
        out = list(self.code)
        self.regions = []  # (start, end, condition) of active-branch text
        stack = []  # [condition, branch_start, in_else]
        pos = 0
        for line in self.code.splitlines(keepends=True):
            s = line.strip()
            m = re.match(r"#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", s)
            if m:
                kind, cond = m.group(1), m.group(2).strip()
                if kind in ("if", "ifdef", "ifndef"):
                    if kind == "ifdef":
                        cond = "defined(%s)" % cond
                    elif kind == "ifndef":
                        cond = "!defined(%s)" % cond
                    stack.append([cond, pos + len(line), False])
                elif stack:
                    top = stack[-1]
                    self.regions.append((top[1], pos, ("!(%s)" if top[2] else "%s") % top[0]))
                    if kind == "endif":
                        stack.pop()
                    else:
                        if kind == "elif":
                            top[0] = "!(%s) && %s" % (top[0], cond)
                        else:
                            top[2] = True
                        top[1] = pos + len(line)
            if s.startswith("#"):
                for k in range(pos, pos + len(line)):
                    if out[k] != "\n":
                        out[k] = " "
            pos += len(line)
        return "".join(out)

    def conditions(self, offset):
        return [c for a, b, c in self.regions
                if a <= offset < b and not re.fullmatch(r"!defined\(GMPLAB_\w+_H_\)", c)]

    def scopes(self):
        """[(open, close, kind, name)] for every brace pair. A #if/#else
        whose branches each open a brace are read as the first branch."""
        out, stack = [], []
        code = self.code
        # Branch snapshots: braces inside an #else branch are skipped.
        skip = [(a, b) for a, b, c in self.regions if c.startswith("!(") and
                self._if_region_has_brace(a, b)]
        for i, c in enumerate(code):
            if c not in "{}":
                continue
            if any(a <= i < b for a, b in skip):
                continue
            if c == "{":
                kind, name = classify_brace(code, i)
                stack.append([i, kind, name])
            elif stack:
                o, kind, name = stack.pop()
                out.append((o, i, kind, name))
        return out

    def _if_region_has_brace(self, a, b):
        seg = self.code[a:b]
        return seg.count("{") != seg.count("}")

    def function_at(self, offset, scopes):
        """The qualified name of the function around `offset`, or None."""
        around = sorted((s for s in scopes if s[0] < offset < s[1]), key=lambda s: s[0])
        names, func = [], None
        for o, c, kind, name in around:
            if kind in ("class", "namespace") and name:
                if kind == "class":
                    names.append(name)
            elif kind == "function":
                func = "::".join(names + [name]) if "::" not in name else name
                names = func.split("::")
        return func

    def operations(self):
        """Every atomic call: dicts with offset, op, receiver, args, spans."""
        code = self.code
        for m in CALL_RE.finditer(code):
            op = m.group(2)
            p = m.end() - 1
            try:
                close = matching(code, p)
            except ValueError:
                continue
            recv = receiver_name(code, m.start())
            yield {"offset": m.start(2), "op": op, "receiver": recv,
                   "open": p, "close": close,
                   "args": [trimmed(code, s) for s in split_args(code, p + 1, close)]}
        for m in FENCE_RE.finditer(code):
            p = m.end() - 1
            close = matching(code, p)
            yield {"offset": m.start(1), "op": m.group(1), "receiver": None,
                   "open": p, "close": close,
                   "args": [trimmed(code, s) for s in split_args(code, p + 1, close)]}


def receiver_name(code, dot):
    """The last identifier of the receiver expression that ends before
    code[dot] (`a->b.c[i]` gives `c`)."""
    j = dot - 1
    while j >= 0 and code[j].isspace():
        j -= 1
    while j >= 0 and code[j] in "])":
        open_c = "[" if code[j] == "]" else "("
        depth = 0
        while j >= 0:
            if code[j] in "])":
                depth += 1
            elif code[j] in "[(":
                depth -= 1
                if depth == 0:
                    break
            j -= 1
        j -= 1
        while j >= 0 and code[j].isspace():
            j -= 1
    m = re.search(r"[A-Za-z_]\w*$", code[:j + 1])
    return m.group(0) if m else None


# ----------------------------------------------------------------------------
# Sites


def atomic_names(root):
    """Names declared std::atomic<...> (members, globals, pointer params)
    in the scanned files of runtime/, less the ambiguous ones."""
    return atomic_names_in(runtime_files(root))


PLAIN_DECL = re.compile(r"^\s*(?:const\s+|static\s+|mutable\s+)*"
                        r"(?!return\b|std::atomic\b)[A-Za-z_][\w:]*(?:<[^;=]*>)?[\s*&]+"
                        r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?:=[^;]*|\{[^;]*\})?;",
                        re.MULTILINE)


def plain_names_in(paths):
    """Names that some class member declaration gives a type other than
    std::atomic (locals and parameters of the same name do not count)."""
    names = set()
    for path in paths:
        sc = Scanner(path, read_text(path))
        scopes = sc.scopes()
        for m in PLAIN_DECL.finditer(sc.code):
            around = [x for x in scopes if x[0] < m.start(1) < x[1]]
            if around and max(around, key=lambda x: x[0])[2] == "class":
                names.add(m.group(1))
    return names


SCANNED = re.compile(r"(^|/)runtime/(?!\w+_test\.cc$)[^/]+\.(cc|h)$")


def runtime_files(root, with_tests=False):
    files = sorted(glob.glob(os.path.join(root, "runtime", "*.cc")) +
                   glob.glob(os.path.join(root, "runtime", "*.h")))
    return [f for f in files if with_tests or not f.endswith("_test.cc")]


def order_of(code, span):
    m = ORDER_RE.match(re.sub(r"\s+", "", code[span[0]:span[1]]))
    return m.group(1) if m else None


def kind_of(op):
    if op in LOADS:
        return "load"
    if op in STORES:
        return "store"
    if op in FENCES:
        return "fence"
    return "rmw"


# Index of the order argument(s) per op: (first order arg index).
ORDER_ARG = {"load": 0, "store": 1, "exchange": 1, "compare_exchange_weak": 2,
             "compare_exchange_strong": 2, "fetch_add": 1, "fetch_sub": 1,
             "fetch_and": 1, "fetch_or": 1, "fetch_xor": 1,
             "atomic_thread_fence": 0, "atomic_signal_fence": 0}


def weaken(order, op):
    """The weakened order(s) of one site."""
    if order == "seq_cst":
        return {"load": ["acquire"], "store": ["release"]}.get(kind_of(op), ["acq_rel"])
    if order in ("consume", "acquire", "release", "acq_rel"):
        return ["relaxed"]
    return []


def load_part(order):
    return {"relaxed": "relaxed", "consume": "consume", "acquire": "acquire",
            "release": "relaxed", "acq_rel": "acquire", "seq_cst": "seq_cst"}[order]


def failure_for(success, failure):
    """A compare_exchange failure order valid with `success`: `failure`,
    lowered to no more than success's load part."""
    cap = load_part(success)
    rank = ["relaxed", "consume", "acquire", "seq_cst"]
    if failure not in rank:
        failure = "seq_cst"
    return cap if rank.index(failure) > rank.index(cap) else failure


def scan_file(root, path, atomics, globals_=frozenset()):
    """(sites, operator_forms, dynamic_orders) of one file."""
    rel = os.path.relpath(path, root)
    text = read_text(path)
    sc = Scanner(rel, text)
    scopes = sc.scopes()
    ops = sorted(sc.operations(), key=lambda o: o["offset"])
    sites, dynamic = [], []
    ordinals = {}
    for o in ops:
        op, args, code = o["op"], o["args"], sc.code
        k = ORDER_ARG[op]
        conds = sc.conditions(o["offset"])
        line = sc.lines.of(o["offset"])
        if any(re.search(r"(?<!!)defined\(GMP_CANARY_\w+\)", c) and not c.startswith("!(")
               for c in conds):
            continue  # compiled into a canary only
        order_args = args[k:]
        if order_args:
            orders = [order_of(code, s) for s in order_args]
            if orders[0] is None:
                dynamic.append({"file": rel, "line": line, "op": op,
                                "text": code[order_args[0][0]:order_args[0][1]]})
                continue
            order, explicit = orders[0], True
            failure = orders[1] if len(orders) > 1 else None
        else:
            if op not in FENCES and o["receiver"] not in atomics:
                continue
            if op in FENCES:
                continue  # a fence always names its order
            order, explicit, failure = "seq_cst", False, None
        weakened = weaken(order, op)
        if not weakened:
            continue
        func = sc.function_at(o["offset"], scopes) or "<file scope>"
        base = os.path.basename(rel)
        n = ordinals.get(func, 0)
        ordinals[func] = n + 1
        site = {
            "id": "%s:%s#%d" % (base, func, n),
            "file": rel,
            "line": line,
            "function": func,
            "op": op,
            "kind": kind_of(op),
            "object": o["receiver"],
            "order": order,
            "explicit": explicit,
            "weakened": weakened,
        }
        if op.startswith("compare_exchange"):
            site["failure_order"] = failure
        if conds:
            site["preprocessor"] = conds
        reason = dekker_reason(site, text, sc.lines)
        if reason:
            site["needs_model_checker"] = reason
        site["_op"] = o
        sites.append(site)
    forms = operator_forms(rel, sc, atomics, globals_)
    return sites, forms, dynamic


def dekker_reason(site, text, lines):
    if site["order"] != "seq_cst":
        return None
    if site["kind"] == "fence":
        return "a fence: ThreadSanitizer does not model atomic_thread_fence"
    func = site["function"].split("::")[-1]
    if func in DEKKER_FUNCTIONS:
        return "in %s (StoreLoad pattern)" % func
    if (func, site["object"]) in DEKKER_PAIRS:
        return "%s's %s: the other side of entersyscall's StoreLoad" % (func, site["object"])
    if site["object"] in DEKKER_VARIABLES:
        return "seq_cst on %s, one side of a StoreLoad (Dekker) handshake" % site["object"]
    all_lines = text.splitlines()
    lo = max(0, site["line"] - 1 - COMMENT_WINDOW[0])
    window = all_lines[lo:site["line"] + COMMENT_WINDOW[1]]
    for ln in window:
        c = ln.find("//")
        if c >= 0 and DEKKER_WORDS.search(ln[c:]):
            return "a comment near it says: %s" % ln[c + 2:].strip()
    return TSAN_SEQ_CST


# ThreadSanitizer's atomics (tsan_interface_atomic.cpp) take seq_cst as
# acq_rel: IsAcquireOrder and IsReleaseOrder are true for both, and nothing
# models the single total order. Every seq_cst weakening is therefore the
# same order to TSan, wherever it is, not only in a StoreLoad pattern.
TSAN_SEQ_CST = ("seq_cst: ThreadSanitizer takes seq_cst as acq_rel (an acquire load, a "
                "release store), so it cannot tell this weakening from the original")


def operator_forms(rel, sc, atomics, globals_):
    """Assignments and increments on std::atomic objects: seq_cst
    operations the scanner does not mutate. A name counts when it is
    reached as a member (`.x`, `->x`) of something, or is a namespace-scope
    atomic of the runtime (`globals_`), so locals of the same name stay out."""
    out = []
    code = sc.code
    if not atomics:
        return out
    names = "|".join(sorted(re.escape(a) for a in atomics))
    post = re.compile(r"(\.|->|(?<![\w.>:]))(%s)\b[ \t]*(\[[^\]\n]*\])?[ \t]*"
                      r"(\+\+|--|[+\-&|^]=|=(?!=))" % names)
    pre = re.compile(r"(\+\+|--)[ \t]*(?:[\w\]\[]+(?:\.|->))*(%s)\b(?![ \t]*\()" % names)
    found = []
    for m in post.finditer(code):
        member = m.group(1) in (".", "->")
        found.append((m.start(2), m.group(2), m.group(4), member))
    for m in pre.finditer(code):
        member = code[m.start(2) - 1] in ".>"
        found.append((m.start(2), m.group(2), m.group(1), member))
    lines = sc.text.splitlines()
    for start, name, opx, member in found:
        if not member and name not in globals_:
            continue
        # A declaration with an initialiser (`P* nextp = ...`) is no store.
        head = code[max(0, start - 120):start]
        if not member and re.search(r"(?:[\w>]|[*&])\s*$", head) and not \
                re.search(r"(?:return|[;{}(,=!&|])\s*$", head):
            continue
        if any(re.search(r"(?<!!)defined\(GMP_CANARY_\w+\)", c) and not c.startswith("!(")
               for c in sc.conditions(start)):
            continue
        line = sc.lines.of(start)
        out.append({"file": rel, "line": line, "object": name, "operator": opx,
                    "text": lines[line - 1].strip()})
    out.sort(key=lambda f: (f["file"], f["line"]))
    return out


def atomic_globals(root):
    """Atomics declared at namespace scope (no indentation) in runtime/."""
    out = set()
    for path in runtime_files(root):
        for line in strip(read_text(path)).splitlines():
            m = re.match(r"(?:(?:static|constinit|extern|inline|alignas\s*\(\w+\))\s+)*"
                         r"std::atomic\s*<[^;]*?>\s*([A-Za-z_]\w*)", line)
            if m:
                out.add(m.group(1))
    return out


def scan(root=ROOT):
    atomics = atomic_names(root)
    globals_ = atomic_globals(root)
    sites, forms, dynamic = [], [], []
    for path in runtime_files(root):
        s, f, d = scan_file(root, path, atomics, globals_)
        sites += s
        forms += f
        dynamic += d
    ids = [s["id"] for s in sites]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError("duplicate site ids: %s" % ", ".join(sorted(dup)))
    return {"sites": sites, "operator_forms": forms, "dynamic_orders": dynamic}


# ----------------------------------------------------------------------------
# Mutants


def mutant_name(site, order):
    base = re.sub(r"\.", "_", os.path.basename(site["file"]))
    func = site["function"].replace("::", "_").replace("~", "dtor_")
    func = func.replace("operator[]", "operator_index").replace("operator()", "operator_call")
    name = "m_%s_%s_%d_%s" % (base, func, int(site["id"].rsplit("#", 1)[1]), order)
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def mutants(result):
    """[(name, site, order)] for every (site, weakened order)."""
    return [(mutant_name(s, o), s, o) for s in result["sites"] for o in s["weakened"]]


def public(result):
    """`result` without the scanner's private keys (offsets)."""
    out = dict(result)
    out["sites"] = [{k: v for k, v in s.items() if not k.startswith("_")}
                    for s in result["sites"]]
    return out


def render_json(result):
    return json.dumps(public(result), indent=1, sort_keys=True) + "\n"


def render_bzl(result):
    rows = []
    for name, site, order in mutants(result):
        rows.append('    ("%s", "%s", "%s", "%s"),' % (name, site["id"], order, site["file"]))
    return ('"""Generated by fuzz/mutate/sites.py write; do not edit.\n\n'
            "One row per memory-order mutant: (target name, site id, weakened\n"
            "order, file). //fuzz/mutate:sites_test fails when this is stale.\n"
            '"""\n\nMUTANTS = [\n' + "\n".join(rows) + "\n]\n")


def apply(site_id, order, srcs, root="."):
    """The mutant's unity source: every runtime .cc of `srcs` concatenated
    with #line markers, one site weakened to `order`. A site in a header
    is applied to a copy of that header placed first in the unity source,
    whose include guard then keeps the original out of it."""
    atomics = atomic_names_in(s for s in srcs if SCANNED.search(s))
    cc = [s for s in srcs if s.endswith(".cc") and not s.endswith("_test.cc")]
    target = None
    for path in srcs:
        if os.path.basename(path) != site_id.split(":", 1)[0]:
            continue
        sites, _, _ = scan_file(root, path, atomics)
        for s in sites:
            if s["id"] == site_id:
                target = (path, s)
    if target is None:
        raise ValueError("site %s not found in the sources (is fuzz/mutate/"
                         "sites.json stale? run fuzz/mutate/sites.py write)" % site_id)
    path, site = target
    if order not in site["weakened"]:
        raise ValueError("site %s (%s) weakens to %s, not %s" % (
            site_id, site["order"], ", ".join(site["weakened"]), order))
    mutated = mutate_text(read_text(path), site, order)
    out = []
    if path.endswith(".h"):
        out.append('#line 1 "%s"\n' % path)
        out.append(mutated)
    for f in cc:
        out.append('#line 1 "%s"\n' % f)
        out.append(mutated if f == path else read_text(f))
    return "".join(out)


# ----------------------------------------------------------------------------
# The mutant schema: every mutant in one build, chosen when a process starts

SCHEMA_NS = "gmp_mutate"

SCHEMA_PROLOGUE = """\
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// The mutant schema's switchboard (fuzz/mutate/sites.py schema). Every
// memory order of a mutation site reads Order(n, original, weakened):
// the original unless the process was started with mutant n selected in
// GMP_MUTATE_SITE (mutant names, comma-separated). GMP_MUTATE_REACHED, a
// directory, receives one empty file per selected mutant the process
// executed. Both are read once, before main, and only read after.
namespace %(ns)s {

inline constexpr int kMutants = %(count)d;
inline constexpr const char* kNames[kMutants + 1] = {
%(names)s
    nullptr};
inline bool selected[kMutants + 1];
inline bool any_selected;
inline const char* reached_dir;
inline std::atomic<bool> reached[kMutants + 1];

[[gnu::constructor]] inline void Select() {
  const char* list = std::getenv("GMP_MUTATE_SITE");
  reached_dir = std::getenv("GMP_MUTATE_REACHED");
  if (list == nullptr) return;
  for (const char* p = list; *p != 0;) {
    const char* end = std::strchr(p, ',');
    size_t len = end ? static_cast<size_t>(end - p) : std::strlen(p);
    int n = 0;
    while (n < kMutants &&
           !(std::strlen(kNames[n]) == len && std::strncmp(kNames[n], p, len) == 0)) {
      ++n;
    }
    if (len > 0 && n == kMutants) {
      std::fprintf(stderr,
                   "fatal error: GMP_MUTATE_SITE names %%.*s, which is not one of "
                   "this schema's %%d mutants (fuzz/mutate/mutants.bzl)\\n",
                   static_cast<int>(len), p, kMutants);
      std::abort();
    }
    if (len > 0) selected[n] = any_selected = true;
    p += len + (end ? 1 : 0);
  }
}

inline void Reach(int n) {
  if (reached[n].exchange(true, std::memory_order_relaxed) || reached_dir == nullptr) return;
  int saved = errno;  // a runtime atomic must not change the goroutine's errno
  char path[4096];
  std::snprintf(path, sizeof path, "%%s/%%s", reached_dir, kNames[n]);
  int fd = ::open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  errno = saved;
}

inline std::memory_order Order(int n, std::memory_order original,
                               std::memory_order weakened) {
  if (__builtin_expect(any_selected, 0) && selected[n]) {
    Reach(n);
    return weakened;
  }
  return original;
}

}  // namespace %(ns)s
"""


def site_edits(site, order_expr):
    """[(start, end, replacement)] that give `site` the order expressions
    order_expr(original, weakened) (and its compare_exchange failure order
    likewise), for the site's first weakened order."""
    o = site["_op"]
    k = ORDER_ARG[o["op"]]
    args = o["args"]
    weak = site["weakened"][0]
    cas = site["op"].startswith("compare_exchange")
    if len(args) > k:
        a, b = args[k]
        edits = [(a, b, order_expr(site["order"], weak))]
        if cas and len(args) > k + 1:
            fa, fb = args[k + 1]
            f = site["failure_order"] or "seq_cst"
            edits.append((fa, fb, order_expr(f, failure_for(weak, f))))
        return edits
    close = o["close"]
    if cas:
        ins = ", %s, %s" % (order_expr("seq_cst", weak),
                            order_expr("seq_cst", failure_for(weak, "seq_cst")))
    else:
        ins = (", " if args else "") + order_expr(site["order"], weak)
    return [(close, close, ins)]


def schema(srcs, root="."):
    """(unity source, header, mutant names) of the mutant schema. The
    header: a prologue that defines gmp_mutate::Order, then every runtime
    header with sites, rewritten (each after the others it includes), so
    their include guards keep the originals out of a file that includes it
    first. The unity source: the header, then every runtime .cc of `srcs`
    concatenated with #line markers. In both, every site's order is a call
    of Order."""
    scanned = [s for s in srcs if SCANNED.search(s)]
    atomics = atomic_names_in(scanned)
    by_file = {}
    for path in scanned:
        sites, _, _ = scan_file(root, path, atomics)
        if sites:
            by_file[path] = sites
    names, texts = [], {}
    # Mutant numbers follow sites.json's order: files sorted by path.
    for path in sorted(by_file):
        text = read_text(path)
        edits = []
        for site in by_file[path]:
            n = len(names)
            names.append(mutant_name(site, site["weakened"][0]))
            expr = (lambda n: lambda a, b: "::%s::Order(%d, std::memory_order_%s, "
                    "std::memory_order_%s)" % (SCHEMA_NS, n, a, b))(n)
            edits += site_edits(site, expr)
        for a, b, rep in sorted(edits, reverse=True):
            text = text[:a] + rep + text[b:]
        texts[path] = text
    out = ["#ifndef GMPLAB_MUTATE_SCHEMA_H_\n#define GMPLAB_MUTATE_SCHEMA_H_\n",
           SCHEMA_PROLOGUE % {"ns": SCHEMA_NS, "count": len(names),
                              "names": "\n".join('    "%s",' % n for n in names)}]
    headers = [p for p in sorted(texts) if p.endswith(".h")]
    for path in header_order(headers, srcs):
        out.append('#line 1 "%s"\n' % path)
        out.append(texts[path])
    out.append("#endif  // GMPLAB_MUTATE_SCHEMA_H_\n")
    header = "".join(out)
    for f in srcs:
        if f.endswith(".cc") and not f.endswith("_test.cc"):
            out.append('#line 1 "%s"\n' % f)
            out.append(texts.get(f) or read_text(f))
    return "".join(out), header, names


INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"(runtime/[^"]+)"', re.MULTILINE)


def header_order(headers, srcs):
    """`headers` ordered so that each comes after every header of the list
    it includes, directly or through other runtime headers."""
    by_rel = {}
    for s in srcs:
        m = re.search(r"(runtime/[^/]+)$", s)
        if m:
            by_rel[m.group(1)] = s
    closure = {}

    def includes(path, seen):
        for rel in INCLUDE_RE.findall(read_text(path)):
            dep = by_rel.get(rel)
            if dep and dep not in seen:
                seen.add(dep)
                includes(dep, seen)
        return seen

    for h in headers:
        closure[h] = includes(h, set())
    done, out = set(), []
    while len(out) < len(headers):
        ready = [h for h in headers if h not in done and
                 not any(d in closure[h] for d in headers if d not in done and d != h)]
        if not ready:
            raise ValueError("headers include each other: %s" % ", ".join(
                h for h in headers if h not in done))
        for h in ready:
            done.add(h)
            out.append(h)
    return out


def atomic_names_in(srcs):
    """Atomic names declared in `srcs` and nowhere declared as anything
    else (P::m is a plain M*, thread_pool.cc's Slot::m an atomic: `m` is
    ambiguous, so `x->m = ...` and `x.m.load()` are not taken as atomic
    without an explicit order)."""
    srcs = list(srcs)
    return declared_atomic(srcs) - plain_names_in(srcs)


def declared_atomic(srcs):
    names = set()
    for path in srcs:
        code = strip(read_text(path))
        for m in DECL_RE.finditer(code):
            try:
                close = matching(code, m.end() - 1, "<", ">")
            except ValueError:
                continue
            rest = code[close + 1:close + 200]
            d = re.match(r"\s*(?:const\s*)?[*&]*\s*([A-Za-z_]\w*)\s*([\[{=;,)]|$)", rest)
            if d:
                names.add(d.group(1))
    return names


def mutate_text(text, site, order):
    """`text` with `site`'s memory order replaced by `order`."""
    o = site["_op"]
    k = ORDER_ARG[o["op"]]
    args = o["args"]
    std = lambda x: "std::memory_order_" + x
    if len(args) > k:
        a, b = args[k]
        if site["op"].startswith("compare_exchange") and len(args) > k + 1:
            fa, fb = args[k + 1]
            failure = failure_for(order, site["failure_order"] or "seq_cst")
            return text[:a] + std(order) + text[b:fa] + std(failure) + text[fb:]
        return text[:a] + std(order) + text[b:]
    close = o["close"]
    if site["op"].startswith("compare_exchange"):
        ins = ", %s, %s" % (std(order), std(failure_for(order, "seq_cst")))
    else:
        ins = (", " if args else "") + std(order)
    return text[:close] + ins + text[close:]


# ----------------------------------------------------------------------------


def main(argv):
    p = argparse.ArgumentParser(prog="fuzz/mutate/sites.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("scan", "write", "check"):
        s = sub.add_parser(name)
        s.add_argument("--root", default=ROOT)
    sc = sub.add_parser("schema", help="the mutant schema's unity source")
    sc.add_argument("--out", required=True)
    sc.add_argument("--header-out", required=True)
    sc.add_argument("srcs", nargs="+")
    a = sub.add_parser("apply")
    a.add_argument("--site", required=True)
    a.add_argument("--order", required=True, choices=ORDERS)
    a.add_argument("--out", required=True)
    a.add_argument("srcs", nargs="+")
    args = p.parse_args(argv)
    if args.cmd == "schema":
        try:
            text, header, _ = schema(args.srcs)
        except ValueError as e:
            print("sites.py schema: error: %s" % e, file=sys.stderr)
            return 1
        with open(args.out, "w") as f:
            f.write(text)
        with open(args.header_out, "w") as f:
            f.write(header)
        return 0
    if args.cmd == "apply":
        try:
            text = apply(args.site, args.order, args.srcs)
        except ValueError as e:
            print("sites.py apply: error: %s" % e, file=sys.stderr)
            return 1
        with open(args.out, "w") as f:
            f.write(text)
        return 0
    result = scan(args.root)
    files = {SITES_JSON: render_json(result), MUTANTS_BZL: render_bzl(result)}
    if args.cmd == "scan":
        sys.stdout.write(files[SITES_JSON])
        return 0
    if args.cmd == "write":
        for rel, content in files.items():
            with open(os.path.join(args.root, rel), "w") as f:
                f.write(content)
        print("%d sites (%d needing a model checker), %d mutants, %d operator "
              "forms, %d dynamic orders" % (
                  len(result["sites"]),
                  sum(1 for s in result["sites"] if "needs_model_checker" in s),
                  len(mutants(result)), len(result["operator_forms"]),
                  len(result["dynamic_orders"])))
        return 0
    stale = []
    for rel, content in files.items():
        path = os.path.join(args.root, rel)
        if not os.path.exists(path) or read_text(path) != content:
            stale.append(rel)
    if stale:
        print("stale: %s; run fuzz/mutate/sites.py write and commit the result"
              % ", ".join(stale), file=sys.stderr)
        return 1
    print("sites.json and mutants.bzl are up to date (%d sites)" % len(result["sites"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
