"""Unit tests of the fuzz campaign runner's pieces that need no fuzzer."""

import os
import stat
import tempfile
import unittest

import campaign


class ParseArgsTest(unittest.TestCase):

    def test_defaults(self):
        a = campaign.parse_args([])
        self.assertEqual(a.time, 60)
        self.assertEqual(a.replays, 20)
        self.assertFalse(a.all_variants)
        self.assertEqual(campaign.parse_args(["--canaries"]).time, 300)

    def test_rejects(self):
        for argv in (["--all-variants", "--variant=go_default"],
                     ["--all-variants", "--canaries"],
                     ["--replays=-1"], ["--time=0"], ["--jobs=0"],
                     ["--target=nope"], ["--canaries", "--keep-going"],
                     ["--canaries", "--variant=go_default"]):
            with self.assertRaises(campaign.UsageError, msg=argv):
                campaign.parse_args(argv)


class ShareTest(unittest.TestCase):

    def test_equal_shares(self):
        self.assertEqual(campaign.share_per_variant(600, 17), 35)
        self.assertEqual(campaign.share_per_variant(10, 2), 5)

    def test_too_little(self):
        with self.assertRaisesRegex(campaign.UsageError, "at least 85"):
            campaign.share_per_variant(80, 17)


class ReproduceTest(unittest.TestCase):

    def test_command_carries_the_sanitizer_options(self):
        cmd = campaign.reproduce_command(
            "fuzz", "//variants:go_default_fuzz_block", "/tmp/crash-1 x")
        self.assertIn("TSAN_OPTIONS=", cmd)
        self.assertIn("halt_on_error=1", cmd)
        self.assertIn("external_symbolizer_path=", cmd)
        self.assertIn("run --config=fuzz //variants:go_default_fuzz_block -- "
                      "'/tmp/crash-1 x'", cmd)
        asan = campaign.reproduce_command("fuzz-asan", "//x:y", "/a")
        self.assertIn("ASAN_OPTIONS=", asan)
        self.assertIn("UBSAN_OPTIONS=", asan)

    def _fake_fuzzer(self, d, body):
        path = os.path.join(d, "fuzzer")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    def test_rate_counts_failing_runs(self):
        with tempfile.TemporaryDirectory() as d:
            # Fails on odd runs: a counter file beside it.
            counter = os.path.join(d, "n")
            # Counting and deciding both happen under the lock: replays
            # run two at a time.
            binary = self._fake_fuzzer(d, (
                "exec flock %s sh -c 'n=$(cat %s 2>/dev/null || echo 0); "
                "n=$((n+1)); echo $n > %s; exit $((n %% 2))'"
                % (counter, counter, counter)))
            self.assertEqual(campaign.replay_rate(binary, "/dev/null", {}, 1, 20), 10)
            always = self._fake_fuzzer(d, "exit 1")
            self.assertEqual(campaign.replay_rate(always, "/dev/null", {}, 1, 7), 7)
            never = self._fake_fuzzer(d, "exit 0")
            self.assertEqual(campaign.replay_rate(never, "/dev/null", {}, 1, 7), 0)

    def test_add_reproduction(self):
        with tempfile.TemporaryDirectory() as d:
            binary = self._fake_fuzzer(d, "exit 66")
            f = {"artifact": "/dev/null"}
            campaign.add_reproduction(f, binary, {}, 1, 4)
            self.assertEqual((f["replays"], f["reproduced"], f["reproduction_rate"]),
                             (4, 4, 1.0))
            g = {"artifact": "/dev/null"}
            campaign.add_reproduction(g, binary, {}, 1, 0)
            self.assertNotIn("replays", g)


class ParseLogTest(unittest.TestCase):

    def test_final_stats(self):
        text = ("#2\tINITED cov: 10 ft: 20 corp: 1/1b exec/s: 0 rss: 30Mb\n"
                "#512\tpulse  cov: 11 ft: 25 corp: 2/2b lim: 4 exec/s: 256 rss: 31Mb\n"
                "stat::number_of_executed_units: 600\n"
                "stat::average_exec_per_sec:     300\n"
                "stat::new_units_added:          3\n"
                "stat::peak_rss_mb:              40\n")
        s = campaign.parse_log(text)
        self.assertEqual((s["executions"], s["exec_per_sec"], s["coverage"],
                          s["features"], s["new_units"], s["peak_rss_mb"]),
                         (600, 300, 11, 25, 3, 40))


if __name__ == "__main__":
    unittest.main()
