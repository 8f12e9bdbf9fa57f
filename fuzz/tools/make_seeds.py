#!/usr/bin/python3
"""Writes the seed corpora (fuzz/corpus/<target>/) and dictionaries
(fuzz/<target>.dict) of gmplab's fuzz targets.

The inputs are written with an encoder that mirrors the targets' decoders
(fuzz/program.cc, fuzz/runq_fuzzer.cc), which read structure with
FuzzedDataProvider's ConsumeIntegralInRange from the END of the input and
raw bytes with ConsumeBytes from its FRONT. So each seed below is a readable
program, not a blob. Rerun after changing a decoder:

    /usr/bin/python3 fuzz/tools/make_seeds.py

Seeds are named seed-<name>; inputs merged in by campaigns are named by
libFuzzer (their SHA-1) and are left alone.
"""

import argparse
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Op codes of fuzz/program.h (enum class Op).
OPS = {
    "gosched": 0, "lock": 1, "unlock": 2, "work": 3, "go": 4, "check": 5,
    "sleep": 6, "syscall": 7, "mutex": 8, "trymutex": 9, "group": 10,
    "trychan": 11,
}

# Resize (gmp::GOMAXPROCS(n)) is a CheckWorld op byte with a quotient
# (byte / number of ops) that IsResizeQuotient in fuzz/program.cc accepts,
# followed by n in 1..min(8, 2 * procs). These are the smallest such bytes.
RESIZE_BYTE = {False: 5 + 6 * 12, True: 5 + 12 * 9}  # by blocking: 77, 113

# Ext steps (block only) are CheckWorld bytes with quotient 4 or 19
# (IsExtQuotient): 53 or 233, then the kind and its parameters.
EXT_BYTE = 5 + 12 * 4  # 53
# In spawn_lock: quotient 33 or 37 (203 or 227), then a bool (Throw or Errno).
EXT_BYTE_SPAWN_LOCK = 5 + 6 * 33  # 203
EXT_KINDS = {"throw": 0, "errno": 1, "poller": 2, "lock_exit": 3,
             "foreign": 4, "sleeps": 5}
# ExitPollers (block only) is a CheckWorld byte with quotient 6
# (IsExitPollersQuotient): 77, then mask 1..7, n 1..4, extra runs 0..2.
EXIT_POLLERS_BYTE = 5 + 12 * 6  # 77
# Select (block only) is a CheckWorld byte with quotient 2
# (IsSelectQuotient): 29, then k 2..4, k capacities 0..2, selectors 1..3,
# producers 1..3, values each 1..16, flags 0..15 (1 timer case, 2 TrySelect,
# 4 send mode, 8 fairness).
SELECT_BYTE = 5 + 12 * 2  # 29
SELECT_FLAGS = {"timer": 1, "try": 2, "send": 4, "fair": 8}
# Blocking calls of Throw and Errno steps (Block in fuzz/program.cc).
BLOCK_OPS = {"none": 0, "gosched": 1, "chan": 2, "mutex": 3, "sleep": 4}
SLEEP_US = [0, 1, 20, 200, 1000, 3000]


def encode_ext(e, kind, params, blocking=True):
    """params: throw (op, rethrow, dtor, value); errno (source, err, count,
    op) with source 0 = read(-1), 1 = Syscall sets err, 2 = set directly;
    poller (mask, extra_runs); lock_exit (n, rounds); foreign (extra_runs,);
    sleeps (list of microsecond durations from SLEEP_US).

    spawn_lock (blocking False) has throw with op none or gosched, and
    errno (2, err, count >= 1, "gosched") only."""
    if not blocking:
        e.byte(EXT_BYTE_SPAWN_LOCK)
        e.bool(kind == "throw")
        if kind == "throw":
            op, rethrow, dtor, value = params
            e.int(0, 1, BLOCK_OPS[op])
            e.int(0, 3, (1 if rethrow else 0) | (2 if dtor else 0))
            e.int(0, 0xFFFF, value)
        else:
            source, err, count, op = params
            assert kind == "errno" and source == 2 and op == "gosched"
            e.int(1, 133, err)
            e.int(1, 3, count)
        return
    e.byte(EXT_BYTE)
    e.int(0, len(EXT_KINDS) - 1, EXT_KINDS[kind])
    if kind == "throw":
        op, rethrow, dtor, value = params
        e.int(0, 4, BLOCK_OPS[op])
        e.int(0, 3, (1 if rethrow else 0) | (2 if dtor else 0))
        e.int(0, 0xFFFF, value)
    elif kind == "errno":
        source, err, count, op = params
        e.int(0, 2, source)
        e.int(1, 133, err)
        e.int(0, 3, count)
        e.int(1, 4, BLOCK_OPS[op])
    elif kind == "poller":
        mask, extra = params
        e.int(1, 15, mask)
        e.int(0, 2, extra)
    elif kind == "lock_exit":
        n, rounds = params
        e.int(1, 4, n)
        e.int(1, 8, rounds)
    elif kind == "foreign":
        e.int(0, 2, params[0])
    elif kind == "sleeps":
        durations = params[0]
        e.int(1, 4, len(durations))
        for d in durations:
            e.int(0, len(SLEEP_US) - 1, SLEEP_US.index(d))


def encode_exit_pollers(e, mask, n, extra):
    """n pollers that Gosched every round until main begins to return, then
    use nothing but TryRecv (mask 1), TrySend (2) and TryLock (4)."""
    e.byte(EXIT_POLLERS_BYTE)
    e.int(1, 7, mask)
    e.int(1, 4, n)
    e.int(0, 2, extra)


def encode_select(e, caps, nsel, nprod, per, flags=()):
    """A Select step over len(caps) channels of those capacities."""
    e.byte(SELECT_BYTE)
    e.int(2, 4, len(caps))
    for c in caps:
        e.int(0, 2, c)
    e.int(1, 3, nsel)
    e.int(1, 3, nprod)
    e.int(1, 16, per)
    e.int(0, 15, sum(SELECT_FLAGS[f] for f in flags))


def resize_bound(procs):
    return min(8, 2 * procs)


class Encoder:
    """Builds an input for FuzzedDataProvider: tail integers and front bytes."""

    def __init__(self):
        self.tail = []   # bytes in the order the decoder consumes them
        self.front = b""

    def int(self, lo, hi, value):
        assert lo <= value <= hi, (lo, hi, value)
        rng = hi - lo
        nbytes = 0
        while nbytes < 8 and (rng >> (8 * nbytes)) > 0:
            nbytes += 1
        v = value - lo
        # The decoder builds result = (result << 8) | next byte, so the first
        # byte consumed is the most significant.
        for i in reversed(range(nbytes)):
            self.tail.append((v >> (8 * i)) & 0xFF)

    def byte(self, b):
        self.tail.append(b)

    def bool(self, b):
        self.tail.append(1 if b else 0)

    def bytes(self, data):
        self.front += bytes(data)

    def data(self):
        return self.front + bytes(reversed(self.tail))


def encode_node(e, node, blocking, role_main=False, procs=8):
    steps = node.get("steps", [])
    assert len(steps) <= 10
    e.int(0, 10, len(steps))
    last = OPS["trychan"] if blocking else OPS["check"]
    depth = 0
    for step in steps:
        op = step[0]
        if op == "resize":
            e.byte(RESIZE_BYTE[blocking])
            e.int(1, resize_bound(procs), step[1])
            continue
        if op in EXT_KINDS:
            encode_ext(e, op, step[1:], blocking)
            continue
        if op == "exit_pollers":
            assert blocking
            encode_exit_pollers(e, *step[1:])
            continue
        if op == "select":
            assert blocking
            encode_select(e, *step[1:])
            continue
        e.int(0, last, OPS[op])
        if op == "lock":
            assert depth < 3
            depth += 1
        elif op == "unlock":
            assert depth > 0
            depth -= 1
        elif op == "work":
            e.int(0, 2000, step[1])
        elif op == "go":
            encode_node(e, step[1], blocking, procs=procs)
        elif op in ("sleep", "syscall"):
            e.int(0, 200, step[1])
        elif op in ("mutex", "trymutex"):
            _, m, inner, count, param = step
            e.int(0, 1, m)
            e.int(0, 3, inner)
            e.int(1, 3, count)
            e.int(0, 100, param)
        elif op == "group":
            _, cap, producers, consumers = step
            e.int(0, 4, cap)
            e.int(1, 3, len(producers))
            e.int(1, 3, len(consumers))
            for sends, child in producers:
                e.int(0, 8, sends)
                encode_node(e, child, blocking, procs=procs)
            for child in consumers:
                encode_node(e, child, blocking, procs=procs)
        elif op == "trychan":
            e.int(0, 4, step[1])
    if depth > 0 and not role_main:
        e.bool(node.get("exit_locked", False))
    else:
        assert not node.get("exit_locked", False)


def program(procs, main, blocking, choices=b"", probe=True):
    e = Encoder()
    e.int(1, 8, procs)
    e.int(0, 64, len(choices))
    e.bytes(choices)
    e.bool(probe)
    encode_node(e, main, blocking, role_main=True, procs=procs)
    return e.data()


def node(*steps, exit_locked=False):
    return {"steps": list(steps), "exit_locked": exit_locked}


LOCKED_CHILD = node(("lock",), ("gosched",), ("work", 100), ("unlock",))
EXIT_LOCKED = node(("lock",), ("gosched",), ("lock",), ("gosched",),
                   exit_locked=True)
YIELDER = node(("gosched",), ("work", 300), ("gosched",))
STEER = bytes(range(0, 256, 4))  # 64 steering bytes of every kind

SPAWN_LOCK = {
    "empty": b"",
    "fanout": program(4, node(*[("go", YIELDER)] * 8, ("check",)), False),
    "locked": program(2, node(("go", LOCKED_CHILD), ("go", EXIT_LOCKED),
                              ("go", YIELDER), ("gosched",)), False),
    "main_locked": program(3, node(("lock",), ("go", YIELDER),
                                   ("go", LOCKED_CHILD), ("gosched",),
                                   ("unlock",)), False),
    "nested": program(8, node(("go", node(("go", node(("go", LOCKED_CHILD),
                                                      ("go", EXIT_LOCKED))),
                                          ("go", YIELDER))),
                              ("go", EXIT_LOCKED), ("work", 2000)), False,
                      STEER),
    "one_proc": program(1, node(("go", LOCKED_CHILD), ("go", YIELDER),
                                ("go", EXIT_LOCKED), ("lock",), ("check",),
                                ("unlock",)), False, STEER),
    # GOMAXPROCS changes mid-program: main grows and shrinks while children
    # yield, a locked child and one that exits locked resize too.
    "resize": program(2, node(("go", YIELDER), ("resize", 4),
                              ("go", node(("lock",), ("resize", 1),
                                          ("gosched",), ("unlock",))),
                              ("go", node(("lock",), ("resize", 3),
                                          exit_locked=True)),
                              ("resize", 1), ("check",), ("resize", 2)),
                      False, STEER),
    "resize_locked_main": program(4, node(("lock",), ("go", YIELDER),
                                          ("resize", 1), ("go", LOCKED_CHILD),
                                          ("resize", 8), ("gosched",),
                                          ("unlock",), ("resize", 2)), False),
}

PRODUCER = node(("gosched",), ("sleep", 20))
CONSUMER = node(("work", 50), ("gosched",))
MUTEX_USER = node(("mutex", 0, 0, 2, 0), ("mutex", 0, 1, 1, 30),
                  ("trymutex", 0, 3, 1, 50), ("mutex", 1, 2, 1, 10))

BLOCK = {
    "empty": b"",
    "pingpong": program(2, node(("group", 0, [(8, PRODUCER)], [CONSUMER])),
                        True),
    "buffered": program(4, node(("group", 2, [(8, PRODUCER), (5, node())],
                                 [CONSUMER, node(("lock",), ("unlock",))])),
                        True, STEER),
    "mutex": program(4, node(("go", MUTEX_USER), ("go", MUTEX_USER),
                             ("go", MUTEX_USER), ("mutex", 0, 0, 1, 0)), True),
    "sleep_syscall": program(2, node(("go", node(("sleep", 50), ("syscall", 100),
                                                 ("syscall", 0))),
                                     ("go", node(("syscall", 200),)),
                                     ("sleep", 100), ("trychan", 3)), True),
    "locked_block": program(3, node(("go", node(("lock",), ("group", 0,
                                                            [(4, node())],
                                                            [node()]),
                                                ("sleep", 10),
                                                exit_locked=True)),
                                    ("lock",), ("syscall", 10),
                                    ("mutex", 1, 0, 1, 0), ("unlock",)),
                            True, STEER),
    # Every goroutine parked but one sleeper: each wakeup comes from the
    # timer, outside any P.
    "sleepers": program(2, node(("go", node(*[("sleep", 30)] * 10)),
                                ("go", node(("sleep", 100), ("sleep", 10)))),
                        True),
    "mixed": program(8, node(("go", YIELDER), ("go", EXIT_LOCKED),
                             ("group", 1, [(3, MUTEX_USER), (6, PRODUCER)],
                              [CONSUMER, CONSUMER, node(("sleep", 5),)]),
                             ("check",), ("trychan", 0), ("trychan", 4)),
                     True, STEER),
    # GOMAXPROCS changes while producers, consumers, sleepers and a
    # syscall run; a producer and a consumer resize themselves.
    "resize": program(2, node(("go", node(("sleep", 30), ("syscall", 50),
                                          ("resize", 1))),
                              ("resize", 4),
                              ("group", 1, [(6, node(("resize", 3),
                                                     ("gosched",))),
                                            (4, PRODUCER)],
                               [CONSUMER, node(("resize", 1), ("work", 50))]),
                              ("resize", 2), ("mutex", 0, 0, 1, 0)),
                      True, STEER),
}


# Seeds of the Ext steps. Those that trip a runtime defect not fixed yet go
# to fuzz/pending/block/ instead of the corpus (PENDING, with the defect).
THROWER = node(("throw", "gosched", True, True, 1), ("throw", "chan", True, False, 2),
               ("throw", "mutex", False, True, 3), ("throw", "sleep", True, True, 4))
ERRNO_USER = node(("errno", 0, 9, 3, "gosched"), ("errno", 1, 42, 3, "sleep"),
                  ("errno", 2, 7, 2, "chan"), ("errno", 1, 110, 2, "mutex"))
BLOCK_EXT = {
    "ext_throw": program(4, node(*[("go", THROWER)] * 4,
                                 ("throw", "gosched", True, True, 5)),
                         True, STEER),
    "ext_throw_locked": program(2, node(("lock",), ("throw", "chan", True, True, 6),
                                        ("throw", "sleep", True, True, 7),
                                        ("unlock",)), True),
    "ext_errno": program(4, node(*[("go", ERRNO_USER)] * 3,
                                 ("errno", 0, 9, 2, "gosched")), True, STEER),
    "ext_errno_locked": program(2, node(("lock",), ("errno", 0, 9, 3, "sleep"),
                                        ("errno", 1, 33, 3, "gosched"),
                                        ("unlock",)), True),
    "ext_poller": program(2, node(("poller", 15, 2), ("poller", 7, 0),
                                  ("go", YIELDER), ("sleep", 50)), True),
    "ext_poller_one_proc": program(1, node(("poller", 11, 1), ("poller", 12, 0),
                                           ("gosched",), ("work", 100)), True),
    # Pollers that make no runtime call but TryRecv/TrySend/TryLock.
    "ext_poller_spin": program(8, node(*[("poller", 7, 2)] * 6, ("sleep", 200)),
                               True, STEER),
    "ext_lock_exit": program(2, node(("lock_exit", 2, 8), ("lock_exit", 4, 8)),
                             True),
    "ext_lock_exit_once": program(3, node(("lock_exit", 1, 1), ("gosched",)),
                                  True),
    "ext_foreign": program(4, node(("foreign", 2), ("go", YIELDER),
                                   ("resize", 2), ("sleep", 20)), True),
    "ext_sleeps": program(2, node(("go", node(("sleeps", [200, 1, 1000, 0]),)),
                                  ("sleeps", [20, 200, 3000, 1])), True),
    # Pollers passed from M to M (a Gosched every round) until main begins
    # to return, then polling with no other runtime call.
    "ext_exit_pollers": program(8, node(("exit_pollers", 7, 4, 2),
                                        ("go", YIELDER), ("sleep", 50)), True),
    "ext_exit_pollers_few": program(4, node(("exit_pollers", 1, 2, 2),
                                            ("exit_pollers", 6, 1, 0),
                                            ("gosched",), ("work", 200)),
                                    True),
    # Selects: receivers over unbuffered and buffered channels closed under
    # them, with a timer case; polling receivers; selecting senders; the
    # fairness rounds.
    "select_recv": program(4, node(("select", [0, 1, 2], 3, 2, 16, ("timer",)),
                                   ("go", YIELDER)), True),
    "select_try": program(2, node(("select", [0, 0], 2, 3, 8, ("try",)),
                                  ("select", [2, 1, 0, 0], 1, 1, 4, ("fair",))),
                          True),
    "select_send": program(8, node(("select", [0, 2, 1], 3, 2, 12,
                                    ("send", "timer")),
                                   ("select", [0, 0, 0, 0], 2, 1, 16,
                                    ("send", "try", "fair"))), True),
}
SPAWN_LOCK_EXT = {
    "ext_throw": program(4, node(*[("go", node(
        ("throw", "gosched", True, True, i), ("gosched",),
        ("throw", "none", True, False, i + 10),
        ("throw", "gosched", False, True, i + 20)))
        for i in range(4)], ("throw", "gosched", True, True, 99)), False, STEER),
    "ext_throw_locked": program(2, node(("lock",), ("throw", "gosched", True, True, 6),
                                        ("go", YIELDER), ("unlock",)), False),
    "ext_errno": program(4, node(*[("go", node(("errno", 2, 40 + i, 3, "gosched"),
                                               ("gosched",)))
                                   for i in range(4)],
                                 ("errno", 2, 5, 3, "gosched")), False, STEER),
    "ext_errno_locked": program(2, node(("lock",), ("errno", 2, 11, 3, "gosched"),
                                        ("go", YIELDER), ("unlock",)), False),
}
PENDING_SPAWN_LOCK = {}
PENDING = {}


CHAIN_MAGIC = 0xC4A1  # kChainMagic in fuzz/runq_fuzzer.cc


def runq(size_case, seq_ops, thieves, conc_ops, chain=None):
    """size_case: 0 = capacity 4, 1 = 16, 2 = the variant's own.

    seq_ops: list of ("put",), ("burst", k), ("next",), ("get", skip),
    ("steal", thief, steal_runnext), ("probe",). conc_ops: op bytes.
    chain: None, or (thieves, thief op bytes, owner op bytes) for the chain
    phase (a thief op: bit 0 steal runnext, (op >> 1) % 3 what to do with
    the stolen one (0 take, 1 push back, 2 push back as runnext), (op >> 3)
    % 4 then: 0 take one, 1 take one and push it back, else keep; bit 5
    skip runnext / push back as runnext).
    """
    e = Encoder()
    e.int(0, 2, size_case)
    e.int(0, 256, len(seq_ops))
    codes = {"put": 0, "next": 1, "get": 2, "steal": 3, "probe": 4,
             "burst": 5}
    for op in seq_ops:
        e.int(0, 5, codes[op[0]])
        if op[0] == "get":
            e.bool(op[1])
        elif op[0] == "steal":
            e.int(0, 2, op[1])
            e.bool(op[2])
        elif op[0] == "burst":
            e.int(2, 8, op[1])
    e.int(0, 3, thieves)
    e.int(0, 512, len(conc_ops))
    e.bytes(conc_ops)
    if chain is not None:
        nthieves, thief_ops, owner_ops = chain
        e.int(0, 0xFFFF, CHAIN_MAGIC)
        e.int(1, 3, nthieves)
        e.int(1, 64, len(thief_ops))
        e.bytes(thief_ops)
        e.int(0, 512, len(owner_ops))
        e.bytes(owner_ops)
    return e.data()


FILL = [("put",)] * 5
RUNQ = {
    "fifo": runq(1, [("put",)] * 6 + [("get", False)] * 7 + [("probe",)],
                 0, b""),
    "overflow": runq(0, [("put",)] * 9 + [("probe",)] +
                     [("get", False)] * 6, 0, b""),
    "runnext": runq(0, [("next",), ("put",), ("next",), ("probe",),
                        ("get", True), ("get", False), ("steal", 0, True),
                        ("next",), ("steal", 1, True), ("probe",)], 0, b""),
    "steal": runq(2, [("burst", 8), ("steal", 0, False), ("steal", 1, False),
                      ("burst", 7), ("steal", 2, True), ("probe",),
                      ("get", False)], 0, b""),
    "steals_many": runq(1, [("burst", 6), ("steal", 0, False)] * 40, 0,
                        b""),
    "concurrent": runq(0, FILL, 3, bytes((i * 7) % 256 for i in range(400))),
    "concurrent_big": runq(2, [], 2, bytes([0x1c, 0x1c, 3, 2, 1, 0x3c] * 80)),
    # Chains of thieves: each thief's queue is robbed by the next one while
    # its thread pushes back into it and the owner pushes and overflows.
    "chain3": runq(0, FILL, 0, b"",
                   (3, bytes([0x02, 0x0b, 0x13, 0x22, 0x08, 0x2a, 0x15, 0x04]),
                    bytes([0x1c, 1, 2, 0x3c, 1, 1, 2, 3] * 40))),
    "chain1_push_back": runq(0, [], 0, b"",
                             (1, bytes([0x0a, 0x0c, 0x2b, 0x02]),
                              bytes([0x1c, 2, 1, 1] * 60))),
    "chain2_big": runq(2, [("burst", 8)], 1, bytes([0x1c, 3] * 20),
                       (2, bytes([0x02, 0x04, 0x10, 0x28, 0x0b, 0x2c]),
                        bytes([0x1c, 0x1c, 2, 1] * 100))),
}

# Dictionary entries: encoded fragments that the mutator can splice in.
def tail_fragment(build):
    e = Encoder()
    build(e)
    return bytes(reversed(e.tail))


def dict_entries_program(blocking):
    entries = {}
    last = OPS["trychan"] if blocking else OPS["check"]
    for name, code in OPS.items():
        if code <= last:
            entries["op_" + name] = tail_fragment(lambda e, c=code: e.int(0, last, c))
    entries["op_resize"] = bytes([RESIZE_BYTE[blocking]])
    if not blocking:
        entries["ext_throw"] = tail_fragment(
            lambda e: encode_ext(e, "throw", ("gosched", True, True, 1), False))
        entries["ext_errno"] = tail_fragment(
            lambda e: encode_ext(e, "errno", (2, 42, 3, "gosched"), False))
    entries["lock_gosched_unlock"] = tail_fragment(
        lambda e: [e.int(0, last, OPS["lock"]), e.int(0, last, OPS["gosched"]),
                   e.int(0, last, OPS["unlock"])])
    entries["spawn_locked_child"] = tail_fragment(
        lambda e: [e.int(0, last, OPS["go"]),
                   encode_node(e, EXIT_LOCKED, blocking)])
    if blocking:
        entries["group_pingpong"] = tail_fragment(
            lambda e: [e.int(0, last, OPS["group"]), e.int(0, 4, 0),
                       e.int(1, 3, 1), e.int(1, 3, 1), e.int(0, 8, 8),
                       encode_node(e, node(), True),
                       encode_node(e, node(), True)])
        for name, params in (("throw", ("chan", True, True, 1)),
                             ("errno", (1, 42, 3, "gosched")),
                             ("poller", (15, 1)), ("lock_exit", (4, 8)),
                             ("foreign", (1,)), ("sleeps", ([200, 1000],))):
            entries["ext_" + name] = tail_fragment(
                lambda e, n=name, p=params: encode_ext(e, n, p))
        entries["exit_pollers"] = tail_fragment(
            lambda e: encode_exit_pollers(e, 7, 4, 2))
        entries["select"] = tail_fragment(
            lambda e: encode_select(e, [0, 1, 2], 2, 2, 8, ("timer", "fair")))
        entries["mutex_gosched"] = tail_fragment(
            lambda e: [e.int(0, last, OPS["mutex"]), e.int(0, 1, 0),
                       e.int(0, 3, 0), e.int(1, 3, 2), e.int(0, 100, 0)])
    return entries


def dict_entries_runq():
    return {
        "burst_steal": tail_fragment(lambda e: [e.int(0, 5, 5), e.int(2, 8, 8),
                                                e.int(0, 5, 3), e.int(0, 2, 0),
                                                e.bool(False)]),
        "next_steal_runnext": tail_fragment(
            lambda e: [e.int(0, 5, 1), e.int(0, 5, 3), e.int(0, 2, 1),
                       e.bool(True)]),
        "get_skip": tail_fragment(lambda e: [e.int(0, 5, 2), e.bool(True)]),
        "conc_burst": bytes([0x1c] * 8),
        "conc_next_get": bytes([2, 3, 2, 3]),
        "chain_magic": tail_fragment(lambda e: e.int(0, 0xFFFF, CHAIN_MAGIC)),
    }


def write_dict(path, entries):
    with open(path, "w") as f:
        f.write("# Generated by fuzz/tools/make_seeds.py: encoded fragments of\n")
        f.write("# this target's input format (see the decoder).\n")
        for name, data in sorted(entries.items()):
            esc = "".join("\\x%02x" % b for b in data)
            f.write('%s="%s"\n' % (name, esc))


def write_pending(target, seeds, table):
    """Writes the seeds that trip a runtime defect not fixed yet to
    fuzz/pending/<target>/, with a README line each."""
    d = os.path.join(ROOT, "pending", target)
    if not seeds:
        shutil.rmtree(d, ignore_errors=True)
        if os.path.isdir(os.path.dirname(d)) and not os.listdir(os.path.dirname(d)):
            os.rmdir(os.path.dirname(d))
        return
    os.makedirs(d, exist_ok=True)
    lines = ["# Seeds kept out of fuzz/corpus/%s/ (written by" % target,
             "# fuzz/tools/make_seeds.py): each trips a runtime defect that is",
             "# not fixed on this branch. Once the fix is in, remove its entry",
             "# from PENDING in make_seeds.py and rerun the script: the seed",
             "# then goes to the corpus.", ""]
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
        lines.append("- `seed-%s`: %s" % (name, table[name]))
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d pending seeds in %s" % (target, len(seeds), d))


def parser():
    """The command line: no flags; --help prints this module's docstring."""
    return argparse.ArgumentParser(
        prog="make_seeds.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)


def main(argv=None):
    parser().parse_args(argv)
    block = dict(BLOCK)
    block.update({k: v for k, v in BLOCK_EXT.items() if k not in PENDING})
    pending = {k: v for k, v in BLOCK_EXT.items() if k in PENDING}
    spawn_lock = dict(SPAWN_LOCK)
    spawn_lock.update({k: v for k, v in SPAWN_LOCK_EXT.items()
                       if k not in PENDING_SPAWN_LOCK})
    pending_spawn_lock = {k: v for k, v in SPAWN_LOCK_EXT.items()
                          if k in PENDING_SPAWN_LOCK}
    for target, seeds in (("spawn_lock", spawn_lock), ("block", block),
                          ("runq", RUNQ)):
        d = os.path.join(ROOT, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%s: %d seeds in %s" % (target, len(seeds), d))
    write_pending("block", pending, PENDING)
    write_pending("spawn_lock", pending_spawn_lock, PENDING_SPAWN_LOCK)
    write_dict(os.path.join(ROOT, "spawn_lock.dict"), dict_entries_program(False))
    write_dict(os.path.join(ROOT, "block.dict"), dict_entries_program(True))
    write_dict(os.path.join(ROOT, "runq.dict"), dict_entries_runq())
    return 0


if __name__ == "__main__":
    sys.exit(main())
