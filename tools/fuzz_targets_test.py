"""Tests of fuzz_targets.py: it reads exactly FUZZ_TARGETS' keys, refuses
what it cannot read, and every copy of the list equals it."""

import ast
import os
import re
import sys
import unittest

import fuzz_targets

ROOT = fuzz_targets.ROOT


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


class ParseTest(unittest.TestCase):

    def test_reads_keys_in_order(self):
        text = ('"""doc"""\n\nFUZZ_TARGETS = {\n    "b": "b_fuzzer.cc",\n'
                '    # a comment\n\n    "a": "a_fuzzer.cc",  # trailing\n}\n\n'
                'OTHER = {\n    "c": "c.cc",\n}\n')
        self.assertEqual(fuzz_targets.parse(text), ["b", "a"])

    def test_refuses_what_it_cannot_read(self):
        for text in ("X = {}\n", "FUZZ_TARGETS = {\n}\n",
                     'FUZZ_TARGETS = {\n    "a": SRC,\n}\n',
                     'FUZZ_TARGETS = dict(a = "a.cc")\n'):
            with self.assertRaises(ValueError, msg=text):
                fuzz_targets.parse(text)

    def test_real_defs_bzl_matches_the_fuzzer_sources(self):
        # Every key names fuzz/<key>_fuzzer.cc (the source FUZZ_TARGETS maps
        # it to), so a misread key shows here.
        text = read(fuzz_targets.DEFS_BZL)
        names = fuzz_targets.names()
        self.assertGreaterEqual(len(names), 3)
        for n in names:
            self.assertIn('"%s": "%s_fuzzer.cc"' % (n, n), text)
            self.assertTrue(os.path.isfile(os.path.join(ROOT, "fuzz", n + "_fuzzer.cc")), n)
        self.assertEqual(len(re.findall(r'^\s+"\w+": "\w+_fuzzer\.cc",', text, re.M)),
                         len(names))


class CopiesTest(unittest.TestCase):
    """The lists that cannot read fuzz/defs.bzl restate it exactly."""

    def setUp(self):
        self.names = fuzz_targets.names()

    def test_clusterfuzzlite_build_sh(self):
        m = re.search(r'^targets="([^"]*)"$', read(".clusterfuzzlite/build.sh"), re.M)
        self.assertIsNotNone(m, "no targets=\"...\" line in .clusterfuzzlite/build.sh")
        self.assertEqual(m.group(1).split(), self.names)

    def test_check_build_sh(self):
        m = re.search(r"^for t in ([\w ]+); do$", read("fuzz/tools/check_build_sh.sh"), re.M)
        self.assertIsNotNone(m, "no `for t in ...; do` in fuzz/tools/check_build_sh.sh")
        self.assertEqual(m.group(1).split(), self.names)

    def test_check_mutant_py_reads_defs_bzl(self):
        text = read("fuzz/mutate/check_mutant.py")
        self.assertRegex(text, r"(?m)^TARGETS = fuzz_targets\.names\(ROOT\)")

    def test_campaign_reads_defs_bzl(self):
        sys.path.insert(0, os.path.join(ROOT, "fuzz", "tools"))
        import campaign  # pylint: disable=import-outside-toplevel
        self.assertEqual(campaign.target_names(), self.names)


if __name__ == "__main__":
    unittest.main()
