"""Tests of bazel_cli.py: the environment it reads and the commands it makes."""

import unittest
from unittest import mock

import bazel_cli


class EnvSettingTest(unittest.TestCase):

    def test_gmplab_name_wins_over_its_alias(self):
        env = {"GMPLAB_BAZEL": "/a/bazel", "BAZEL": "/b/bazel"}
        self.assertEqual(bazel_cli.env_setting("GMPLAB_BAZEL", env), "/a/bazel")

    def test_alias_when_unset_or_empty(self):
        self.assertEqual(bazel_cli.env_setting("GMPLAB_BAZEL_OUTPUT_BASE",
                                               {"BAZEL_OUTPUT_BASE": "/ob"}), "/ob")
        self.assertEqual(bazel_cli.env_setting("GMPLAB_BAZEL",
                                               {"GMPLAB_BAZEL": "", "BAZEL": "/b"}), "/b")
        self.assertIsNone(bazel_cli.env_setting("GMPLAB_BAZEL", {}))


class BazelTest(unittest.TestCase):

    def test_defaults(self):
        with mock.patch.dict("os.environ", {}, clear=True):
            b = bazel_cli.Bazel()
        self.assertEqual(b.cmd("info"), ["bazel", "info"])
        self.assertEqual(b.root, bazel_cli.ROOT)

    def test_environment(self):
        with mock.patch.dict("os.environ", {"GMPLAB_BAZEL": "/opt/bazel",
                                            "BAZEL_OUTPUT_BASE": "/tmp/o b"}, clear=True):
            b = bazel_cli.Bazel()
        self.assertEqual(b.cmd("build", "//x"), ["/opt/bazel", "--output_base=/tmp/o b",
                                                 "build", "//x"])
        self.assertEqual(b.for_humans("build"), "/opt/bazel '--output_base=/tmp/o b' build")

    def test_arguments_win_over_environment(self):
        with mock.patch.dict("os.environ", {"GMPLAB_BAZEL_OUTPUT_BASE": "/env"}, clear=True):
            b = bazel_cli.Bazel(output_base="/flag", binary="/bin/bazel")
        self.assertEqual(b.cmd(), ["/bin/bazel", "--output_base=/flag"])

    def test_failures_raise(self):
        b = bazel_cli.Bazel(binary="/bin/false")
        with self.assertRaises(RuntimeError):
            b.query("//...")
        with self.assertRaises(RuntimeError):
            b.bin_dir()

    def test_bin_dir_asks_bazel_info(self):
        b = bazel_cli.Bazel(binary="/bin/echo")
        self.assertEqual(b.bin_dir("fuzz"), "info --config=fuzz bazel-bin")


if __name__ == "__main__":
    unittest.main()
