"""Tests of arg_types.py's --procs type, alone and inside argparse."""

import argparse
import contextlib
import io
import unittest

import arg_types


class ProcsListTest(unittest.TestCase):

    def test_accepts(self):
        self.assertEqual(arg_types.procs_list("1,2,4"), [1, 2, 4])
        self.assertEqual(arg_types.procs_list("8"), [8])
        self.assertEqual(arg_types.procs_list("4, 2,4"), [4, 2])
        self.assertEqual(arg_types.procs_list("1024"), [1024])

    def test_rejects(self):
        for text in ("", ",", "0", "1,x", "1,,2", "-1", "1025", "2.5", "1;2"):
            with self.assertRaises(argparse.ArgumentTypeError, msg=text):
                arg_types.procs_list(text)

    def test_bad_list_is_a_usage_error(self):
        ap = argparse.ArgumentParser(prog="p")
        ap.add_argument("--procs", type=arg_types.procs_list)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as e:
            ap.parse_args(["--procs=1,x"])
        self.assertEqual(e.exception.code, 2)
        self.assertIn("usage: p", err.getvalue())
        self.assertIn("bad --procs list '1,x'", err.getvalue())


if __name__ == "__main__":
    unittest.main()
