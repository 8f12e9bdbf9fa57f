"""argparse types shared by the command lines of bench/ and fuzz/."""

import argparse
import re

MAX_PROCS = 1024


def procs_list(text):
    """--procs: comma-separated processor counts such as 1,2,4, each in
    1..MAX_PROCS. Returns them as ints in the order given, each once; a bad
    list is an argparse.ArgumentTypeError (usage, exit 2)."""
    procs = []
    for x in text.split(","):
        x = x.strip()
        if not re.fullmatch(r"[0-9]+", x) or not 1 <= int(x) <= MAX_PROCS:
            raise argparse.ArgumentTypeError(
                "bad --procs list %r (want positive integers such as 1,2,4)" % text)
        if int(x) not in procs:
            procs.append(int(x))
    return procs
