"""Tests of fuzz/mutate/groups.py's test phase with stand-in binaries: a
group that fails is attributed to the mutant that fails alone, and the
rest of the group runs again without it."""

import os
import shutil
import stat
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import groups  # noqa: E402

# Fails (as gtest would) when any of $BAD is among the selected mutants,
# and marks each selected mutant reached.
FAKE_TEST = """#!/bin/bash
for m in ${GMP_MUTATE_SITE//,/ }; do
  [[ -n "$GMP_MUTATE_REACHED" ]] && touch "$GMP_MUTATE_REACHED/$m"
  for b in $BAD; do
    if [[ "$m" == "$b" ]]; then
      echo "WARNING: ThreadSanitizer: data race (pid=1)"
      echo "[  FAILED  ] Suite.Case"
      exit 66
    fi
  done
done
echo "[  PASSED  ] 1 test."
"""


def entry(name):
    return {"mutant": name, "site": "x.cc:F#0", "file": "runtime/x.cc",
            "verdict": "survived"}


class TestGroupsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="groups_test.")
        self.addCleanup(shutil.rmtree, self.dir)
        self.test = os.path.join(self.dir, "t")
        with open(self.test, "w") as f:
            f.write(FAKE_TEST)
        os.chmod(self.test, stat.S_IRWXU)
        self.control = os.path.join(self.dir, "control")
        with open(self.control, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(self.control, stat.S_IRWXU)

    def run_groups(self, names, bad, k):
        os.environ["BAD"] = " ".join(bad)
        self.addCleanup(os.environ.pop, "BAD", None)
        entries = [entry(n) for n in names]
        recs = groups.test_groups(entries, k, {"t": self.test}, {"t": self.control}, 30, 60)
        return {e["mutant"]: e for e in entries}, recs

    def test_group_that_passes_clears_all(self):
        es, recs = self.run_groups(["m_a", "m_b", "m_c"], [], 3)
        self.assertEqual(len(recs), 1)
        self.assertTrue(all(e["verdict"] == "survived" for e in es.values()))
        self.assertTrue(all(e["reached_tests"] for e in es.values()))

    def test_each_bad_mutant_is_found_and_the_rest_rerun(self):
        es, recs = self.run_groups(["m_a", "m_b", "m_c", "m_d"], ["m_b", "m_d"], 4)
        self.assertEqual({n for n, e in es.items() if e["verdict"] == "caught"}, {"m_b", "m_d"})
        self.assertEqual(es["m_b"]["detector"], "test:t")
        self.assertEqual(es["m_b"]["how"], "tsan-race")
        self.assertEqual(es["m_a"]["verdict"], "survived")
        # run 1: all four; run 2: without m_b; run 3: without m_d too.
        self.assertEqual([len(r["mutants"]) for r in recs], [4, 3, 2])

    def test_mutants_that_fail_only_together_are_halved_apart(self):
        # BAD_PAIR: fails only when both are selected.
        pair = ('if [[ ",$GMP_MUTATE_SITE," == *,m_a,* && ",$GMP_MUTATE_SITE," == *,m_d,* ]]; '
                'then\n  echo "WARNING: ThreadSanitizer: data race"\n'
                '  echo "[  FAILED  ] Suite.Case"\n  exit 66\nfi\n')
        script = FAKE_TEST.replace('echo "[  PASSED  ] 1 test."', pair + 'echo "[  PASSED  ] 1 test."')
        with open(self.test, "w") as f:
            f.write(script)
        es, recs = self.run_groups(["m_a", "m_b", "m_c", "m_d"], [], 4)
        self.assertTrue(all(e["verdict"] == "survived" for e in es.values()))
        self.assertEqual([len(r["mutants"]) for r in recs], [4, 2, 2])
        self.assertIn("m_d", es["m_a"]["fails_together"][0]["with"])

    def test_a_failure_the_control_shares_is_not_counted(self):
        with open(self.control, "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        es, _ = self.run_groups(["m_a", "m_b"], ["m_b"], 2)
        self.assertTrue(all(e["verdict"] == "survived" for e in es.values()))


if __name__ == "__main__":
    unittest.main()
