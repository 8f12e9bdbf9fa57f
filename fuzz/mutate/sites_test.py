"""Tests of fuzz/mutate/sites.py: the scanner, the weakening rules, the
mutator, and that the committed sites.json and mutants.bzl match runtime/."""

import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from contextlib import redirect_stdout, redirect_stderr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sites  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))

SAMPLE_H = textwrap.dedent("""\
    // runtime/q.h
    #ifndef GMPLAB_RUNTIME_Q_H_
    #define GMPLAB_RUNTIME_Q_H_
    #include <atomic>
    template <class T, int N>
    class ABSL_LOCKABLE Queue {
     public:
      void Put(T* x) {
        uint32_t h = head_.load(std::memory_order_acquire);
        tail_.store(h + 1, std::memory_order_release);
      }
      bool Take() {
        uint32_t h = head_.load(std::memory_order_relaxed);
        return head_.compare_exchange_strong(h, h + 1, std::memory_order_acq_rel,
                                             std::memory_order_acquire);
      }
     private:
      std::atomic<uint32_t> head_{0};
      std::atomic<uint32_t> tail_{0};
    };
    #endif  // GMPLAB_RUNTIME_Q_H_
    """)

SAMPLE_CC = textwrap.dedent("""\
    // runtime/s.cc
    #include "runtime/q.h"
    struct Sched {
      std::atomic<int32_t> nmspinning{0};
      std::atomic<bool> flag{false};
      int* m = nullptr;
    };
    struct Slot {
      std::atomic<int*> m{nullptr};
    };
    std::atomic<int> g_count{0};
    Sched* sched;

    static inline void StoreLoad() {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }

    void wakep() REQUIRES(lock) {
      int32_t zero = 0;
      if (!sched->nmspinning.compare_exchange_strong(zero, 1)) return;
      g_count.fetch_add(1);  // "quoted .load()" in a comment: no site
      const char* s = "x.load()";
    #if defined(GMP_CANARY_SOMETHING)
      sched->flag.store(true, std::memory_order_release);
    #endif
      bool f = sched->flag.load();
      Slot slot;
      int* p = slot.m.load();  // ambiguous name m: not a site without an order
      int* q = slot.m.exchange(nullptr, std::memory_order_acquire);
    }

    int Other(int x) {
      // Publish the flag, then look (StoreLoad against wakep).
      sched->flag.store(true, std::memory_order_seq_cst);
      return g_count.load(std::memory_order_acquire) + x;
    }
    """)


def make_tree(files):
    root = tempfile.mkdtemp(prefix="sites_test.")
    os.makedirs(os.path.join(root, "runtime"))
    os.makedirs(os.path.join(root, "fuzz", "mutate"))
    for name, text in files.items():
        with open(os.path.join(root, "runtime", name), "w") as f:
            f.write(text)
    return root


def by_id(result):
    return {s["id"]: s for s in result["sites"]}


class ScanTest(unittest.TestCase):
    def setUp(self):
        self.root = make_tree({"q.h": SAMPLE_H, "s.cc": SAMPLE_CC})
        self.addCleanup(shutil.rmtree, self.root)
        self.result = sites.scan(self.root)
        self.sites = by_id(self.result)

    def test_ids_and_fields(self):
        self.assertEqual(sorted(self.sites), sorted([
            "q.h:Queue::Put#0", "q.h:Queue::Put#1", "q.h:Queue::Take#0",
            "s.cc:StoreLoad#0", "s.cc:wakep#0", "s.cc:wakep#1", "s.cc:wakep#2",
            "s.cc:wakep#3", "s.cc:Other#0", "s.cc:Other#1"]))
        put = self.sites["q.h:Queue::Put#0"]
        self.assertEqual((put["file"], put["line"], put["op"], put["order"], put["explicit"]),
                         ("runtime/q.h", 9, "load", "acquire", True))
        self.assertEqual(self.sites["q.h:Queue::Take#0"]["failure_order"], "acquire")

    def test_relaxed_comments_strings_and_canaries_are_not_sites(self):
        lines = {(s["file"], s["line"]) for s in self.result["sites"]}
        self.assertNotIn(("runtime/q.h", 13), lines)      # relaxed load
        self.assertNotIn(("runtime/s.cc", 22), lines)     # string literal
        self.assertNotIn(("runtime/s.cc", 24), lines)     # canary-only store

    def test_implicit_seq_cst_only_on_unambiguous_atomics(self):
        cas = self.sites["s.cc:wakep#0"]
        self.assertEqual((cas["op"], cas["order"], cas["explicit"]),
                         ("compare_exchange_strong", "seq_cst", False))
        self.assertEqual(self.sites["s.cc:wakep#1"]["object"], "g_count")
        self.assertEqual(self.sites["s.cc:wakep#2"]["object"], "flag")
        # slot.m.load(): `m` is also Sched's plain int*, so only the call
        # with an explicit order counts.
        self.assertEqual(self.sites["s.cc:wakep#3"]["op"], "exchange")
        self.assertEqual(sum(1 for s in self.result["sites"] if s["object"] == "m"), 1)

    def test_ids_stable_under_line_shifts(self):
        shifted = SAMPLE_CC.replace("// runtime/s.cc\n", "// runtime/s.cc\n\n\n// more\n")
        shifted = shifted.replace("  int32_t zero = 0;\n",
                                  "  int32_t zero = 0;\n  // a comment\n  int unused = 1;\n")
        root = make_tree({"q.h": SAMPLE_H, "s.cc": shifted})
        self.addCleanup(shutil.rmtree, root)
        after = by_id(sites.scan(root))
        self.assertEqual(sorted(after), sorted(self.sites))
        for i, s in after.items():
            if s["file"] == "runtime/s.cc":
                self.assertGreater(s["line"], self.sites[i]["line"], i)
                self.assertEqual((s["op"], s["order"]),
                                 (self.sites[i]["op"], self.sites[i]["order"]))

    def test_model_checker_marks(self):
        self.assertIn("fence", self.sites["s.cc:StoreLoad#0"]["needs_model_checker"])
        self.assertIn("nmspinning", self.sites["s.cc:wakep#0"]["needs_model_checker"])
        self.assertIn("StoreLoad", self.sites["s.cc:Other#0"]["needs_model_checker"])
        # Any other seq_cst: TSan takes it as acq_rel.
        self.assertEqual(self.sites["s.cc:wakep#1"]["needs_model_checker"], sites.TSAN_SEQ_CST)
        self.assertNotIn("needs_model_checker", self.sites["s.cc:Other#1"])  # acquire

    def test_mutant_names_unique(self):
        names = [n for n, _, _ in sites.mutants(self.result)]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("m_q_h_Queue_Put_1_relaxed", names)


class WeakenTest(unittest.TestCase):
    def test_rules(self):
        self.assertEqual(sites.weaken("seq_cst", "load"), ["acquire"])
        self.assertEqual(sites.weaken("seq_cst", "store"), ["release"])
        for op in ("exchange", "fetch_add", "compare_exchange_weak", "atomic_thread_fence"):
            self.assertEqual(sites.weaken("seq_cst", op), ["acq_rel"], op)
        for order in ("acquire", "release", "acq_rel", "consume"):
            self.assertEqual(sites.weaken(order, "fetch_sub"), ["relaxed"])
        self.assertEqual(sites.weaken("relaxed", "load"), [])

    def test_failure_order_stays_valid(self):
        self.assertEqual(sites.failure_for("relaxed", "acquire"), "relaxed")
        self.assertEqual(sites.failure_for("release", "relaxed"), "relaxed")
        self.assertEqual(sites.failure_for("acq_rel", "seq_cst"), "acquire")
        self.assertEqual(sites.failure_for("acquire", "relaxed"), "relaxed")
        self.assertEqual(sites.failure_for("seq_cst", "seq_cst"), "seq_cst")


class MutateTest(unittest.TestCase):
    def setUp(self):
        self.root = make_tree({"q.h": SAMPLE_H, "s.cc": SAMPLE_CC})
        self.addCleanup(shutil.rmtree, self.root)
        self.cwd = os.getcwd()
        os.chdir(self.root)
        self.addCleanup(os.chdir, self.cwd)
        self.srcs = ["runtime/q.h", "runtime/s.cc"]

    def mutated_line(self, site_id, order, path):
        out = sites.apply(site_id, order, self.srcs)
        s = by_id(sites.scan("."))[site_id]
        return out, s

    def test_cas_two_orders(self):
        out, _ = self.mutated_line("q.h:Queue::Take#0", "relaxed", "runtime/q.h")
        self.assertIn("compare_exchange_strong(h, h + 1, std::memory_order_relaxed,\n"
                      "                                         std::memory_order_relaxed)", out)

    def test_cas_without_order(self):
        out, _ = self.mutated_line("s.cc:wakep#0", "acq_rel", "runtime/s.cc")
        self.assertIn("compare_exchange_strong(zero, 1, std::memory_order_acq_rel, "
                      "std::memory_order_acquire)", out)

    def test_implicit_load_and_rmw(self):
        out, _ = self.mutated_line("s.cc:wakep#2", "acquire", "runtime/s.cc")
        self.assertIn("sched->flag.load(std::memory_order_acquire);", out)
        out, _ = self.mutated_line("s.cc:wakep#1", "acq_rel", "runtime/s.cc")
        self.assertIn("g_count.fetch_add(1, std::memory_order_acq_rel);", out)

    def test_only_that_site_changes(self):
        out = sites.apply("s.cc:Other#1", "relaxed", self.srcs)
        want = SAMPLE_CC.replace("g_count.load(std::memory_order_acquire)",
                                 "g_count.load(std::memory_order_relaxed)")
        self.assertEqual(out, '#line 1 "runtime/s.cc"\n' + want)

    def test_header_site_goes_first(self):
        out = sites.apply("q.h:Queue::Put#1", "relaxed", self.srcs)
        self.assertTrue(out.startswith('#line 1 "runtime/q.h"\n'))
        self.assertIn("tail_.store(h + 1, std::memory_order_relaxed);", out)
        self.assertIn('#line 1 "runtime/s.cc"\n' + SAMPLE_CC, out)

    def test_wrong_order_or_unknown_site(self):
        with self.assertRaisesRegex(ValueError, "weakens to relaxed"):
            sites.apply("q.h:Queue::Put#1", "acquire", self.srcs)
        with self.assertRaisesRegex(ValueError, "stale"):
            sites.apply("s.cc:nope#0", "relaxed", self.srcs)


class SchemaTest(unittest.TestCase):
    """The schema: every site's order a call of gmp_mutate::Order."""

    def setUp(self):
        self.root = make_tree({"q.h": SAMPLE_H, "s.cc": SAMPLE_CC,
                               "r.h": '#include "runtime/q.h"\nstd::atomic<int> k;\n'
                                      "inline int K() { return k.load("
                                      "std::memory_order_acquire); }\n"})
        self.addCleanup(shutil.rmtree, self.root)
        self.cwd = os.getcwd()
        os.chdir(self.root)
        self.addCleanup(os.chdir, self.cwd)
        self.srcs = ["runtime/r.h", "runtime/q.h", "runtime/s.cc"]
        self.unity, self.header, self.names = sites.schema(self.srcs)

    def test_one_slot_per_mutant_in_sites_json_order(self):
        want = [name for name, _, _ in sites.mutants(sites.scan("."))]
        self.assertEqual(self.names, want)
        for n, name in enumerate(self.names):
            self.assertIn('    "%s",' % name, self.header)
        self.assertIn("kMutants = %d;" % len(want), self.header)

    def test_every_order_is_a_switch(self):
        self.assertIn("tail_.store(h + 1, ::gmp_mutate::Order(%d, std::memory_order_release, "
                      "std::memory_order_relaxed));" % self.names.index(
                          "m_q_h_Queue_Put_1_relaxed"), self.unity)
        n = self.names.index("m_s_cc_wakep_0_acq_rel")
        self.assertIn("compare_exchange_strong(zero, 1, ::gmp_mutate::Order(%d, "
                      "std::memory_order_seq_cst, std::memory_order_acq_rel), "
                      "::gmp_mutate::Order(%d, std::memory_order_seq_cst, "
                      "std::memory_order_acquire))" % (n, n), self.unity)
        n = self.names.index("m_q_h_Queue_Take_0_relaxed")
        self.assertIn("::gmp_mutate::Order(%d, std::memory_order_acquire, "
                      "std::memory_order_relaxed))" % n, self.unity)
        calls = self.unity.count("::gmp_mutate::Order(")
        self.assertEqual(calls, len(self.names) + 2)  # two CASes name two orders
        # A canary's site is not one: it keeps its literal order.
        self.assertIn("sched->flag.store(true, std::memory_order_release);", self.unity)

    def test_headers_after_what_they_include_and_unity_starts_with_them(self):
        self.assertLess(self.header.index('#line 1 "runtime/q.h"'),
                        self.header.index('#line 1 "runtime/r.h"'))
        self.assertTrue(self.unity.startswith(self.header))
        self.assertEqual(self.unity.count('#line 1 "runtime/s.cc"'), 1)

    def test_compiles_and_selects_at_run_time(self):
        cxx = shutil.which("clang++") or shutil.which("g++")
        if cxx is None:
            self.skipTest("no C++ compiler")
        src = os.path.join(self.root, "t.cc")
        with open(src, "w") as f:
            f.write(self.header + textwrap.dedent("""
                #include <cstdio>
                int main() {
                  std::printf("%d %d\\n", static_cast<int>(K()), gmp_mutate::any_selected);
                }
                """))
        exe = os.path.join(self.root, "t")
        subprocess.run([cxx, "-std=c++20", "-DABSL_LOCKABLE=", "-o", exe, src], check=True)
        env = dict(os.environ, GMP_MUTATE_SITE="m_r_h_K_0_relaxed",
                   GMP_MUTATE_REACHED=self.root)
        out = subprocess.run([exe], env=env, stdout=subprocess.PIPE, text=True, check=True)
        self.assertEqual(out.stdout, "0 1\n")
        self.assertTrue(os.path.exists(os.path.join(self.root, "m_r_h_K_0_relaxed")))
        env["GMP_MUTATE_SITE"] = "m_nope"
        bad = subprocess.run([exe], env=env, stderr=subprocess.PIPE, text=True)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("fatal error: GMP_MUTATE_SITE names m_nope", bad.stderr)


class CommittedListTest(unittest.TestCase):
    """sites.json and mutants.bzl match the runtime as it is."""

    def test_committed_list_is_current(self):
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            rc = sites.main(["check", "--root", ROOT])
        self.assertEqual(rc, 0, "stale committed site list: " + err.getvalue())

    def test_check_notices_a_new_site(self):
        root = tempfile.mkdtemp(prefix="sites_stale.")
        self.addCleanup(shutil.rmtree, root)
        shutil.copytree(os.path.join(ROOT, "runtime"), os.path.join(root, "runtime"))
        os.makedirs(os.path.join(root, "fuzz", "mutate"))
        for f in (sites.SITES_JSON, sites.MUTANTS_BZL):
            shutil.copy(os.path.join(ROOT, f), os.path.join(root, f))
        with open(os.path.join(root, "runtime", "zz_new.cc"), "w") as f:
            f.write("std::atomic<int> zz_flag{0};\n"
                    "int ZzRead() { return zz_flag.load(std::memory_order_acquire); }\n")
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            self.assertEqual(sites.main(["check", "--root", root]), 1)
            self.assertEqual(sites.main(["write", "--root", root]), 0)
            self.assertEqual(sites.main(["check", "--root", root]), 0)
        ids = {s["id"] for s in json.load(open(os.path.join(root, sites.SITES_JSON)))["sites"]}
        self.assertIn("zz_new.cc:ZzRead#0", ids)

    def test_committed_sites_are_sane(self):
        result = json.load(open(os.path.join(ROOT, sites.SITES_JSON)))
        self.assertGreater(len(result["sites"]), 100)
        for s in result["sites"]:
            self.assertNotEqual(s["order"], "relaxed", s["id"])
            self.assertTrue(s["weakened"], s["id"])
            self.assertFalse(s["file"].endswith("_test.cc"), s["id"])
        # The spinning protocol's StoreLoad is marked, not left as "safe".
        marked = {s["id"] for s in result["sites"] if s.get("needs_model_checker")}
        self.assertTrue(any(i.split(":", 1)[1].startswith("StoreLoad#") for i in marked),
                        marked)


# Every release, acquire or acq_rel site that survived the newest committed
# mutation pass carries an `// order:` comment that says why its order is
# what it is (reports/mutation/TRIAGE.md): in the comment block right above
# the statement that holds the site, or at the end of one of its lines.
ORDER_TAG = "// order:"


def newest_mutation_report(root):
    """The committed mutation report with the latest `generated` stamp."""
    paths = glob.glob(os.path.join(root, "reports", "mutation", "mutation-*.json"))
    if not paths:
        return None
    reports = []
    for p in paths:
        with open(p) as f:
            reports.append(json.load(f))
    return max(reports, key=lambda r: r.get("generated", ""))


def survivors(report):
    """Site ids whose weakening survived (not the seq_cst "needs a model
    checker" ones: TSan cannot tell those orders apart)."""
    return sorted({r["site"] for r in report["results"].values() if r["verdict"] == "survived"})


def _code(line):
    i = line.find("//")
    return (line[:i] if i >= 0 else line).strip()


def has_order_comment(lines, line):
    """Whether the statement holding 1-based `line` of `lines` has an order
    comment: on one of its lines, or in the comment block just above it."""
    i = line - 1
    # Back to the statement's first line: up while the line above continues it.
    while i > 0:
        above = lines[i - 1].strip()
        code = _code(lines[i - 1])
        if not above or above.startswith(("//", "#")) or not code or code[-1] in ";{}:":
            break
        i -= 1
    # The statement's lines, up to the one that ends it.
    j = line - 1
    while j < len(lines) - 1 and j - (line - 1) < 6 and not _code(lines[j]).endswith((";", "{")):
        j += 1
    if any(ORDER_TAG in ln for ln in lines[i:j + 1]):
        return True
    # The comment block right above it.
    k = i - 1
    while k >= 0 and lines[k].strip().startswith("//"):
        if lines[k].strip().startswith(ORDER_TAG):
            return True
        k -= 1
    return False


def missing_order_comments(root, report):
    """[(site id, why)] for each survivor without an order comment."""
    scanned = {s["id"]: s for s in sites.scan(root)["sites"]}
    texts = {}
    missing = []
    for sid in survivors(report):
        s = scanned.get(sid)
        if s is None:
            missing.append((sid, "no longer in runtime/ (renamed or removed?)"))
            continue
        if s["file"] not in texts:
            with open(os.path.join(root, s["file"])) as f:
                texts[s["file"]] = f.read().splitlines()
        if not has_order_comment(texts[s["file"]], s["line"]):
            missing.append((sid, "%s:%d has no %r comment" % (s["file"], s["line"], ORDER_TAG)))
    return missing


class OrderCommentTest(unittest.TestCase):
    """Each survivor of the mutation pass is triaged at its site."""

    def setUp(self):
        self.report = newest_mutation_report(ROOT)
        if self.report is None:
            self.fail("no reports/mutation/mutation-*.json in %s" % ROOT)

    def test_every_survivor_has_an_order_comment(self):
        self.assertGreater(len(survivors(self.report)), 0)
        missing = missing_order_comments(ROOT, self.report)
        self.assertEqual(missing, [], "survivors of the mutation pass without an `%s` "
                         "comment (reports/mutation/TRIAGE.md says what each needs):\n%s"
                         % (ORDER_TAG, "\n".join("  %s: %s" % m for m in missing)))

    def test_model_checker_sites_are_not_survivors(self):
        ids = survivors(self.report)
        for r in self.report["results"].values():
            if r["site"] in ids:
                self.assertNotIn("needs_model_checker", r, r["site"])

    def test_a_removed_comment_is_noticed(self):
        root = tempfile.mkdtemp(prefix="order_comment.")
        self.addCleanup(shutil.rmtree, root)
        shutil.copytree(os.path.join(ROOT, "runtime"), os.path.join(root, "runtime"))
        site = {s["id"]: s for s in sites.scan(root)["sites"]}[survivors(self.report)[0]]
        path = os.path.join(root, site["file"])
        with open(path) as f:
            lines = f.read().splitlines()
        k = site["line"] - 1
        while ORDER_TAG not in lines[k]:
            k -= 1
        del lines[k]  # the tag line only; its continuation lines stay
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.assertEqual([m[0] for m in missing_order_comments(root, self.report)],
                         [site["id"]])

    def test_comment_placement(self):
        lines = textwrap.dedent("""\
            void F() {
              // order: why the first store is release.
              a.store(1, std::memory_order_release);
              // Not a tag.
              b.store(1,
                      std::memory_order_release);
              if (x &&
                  c.load(std::memory_order_acquire)) {  // order: trailing
              }
              // order: about the statement below, with
              // a second line.
              if (y &&
                  d.load(std::memory_order_acquire)) {
              }
              e.store(1, std::memory_order_release);
            }
            """).splitlines()
        self.assertTrue(has_order_comment(lines, 3))
        self.assertFalse(has_order_comment(lines, 5))
        self.assertTrue(has_order_comment(lines, 8))
        self.assertTrue(has_order_comment(lines, 13))
        self.assertFalse(has_order_comment(lines, 15))


if __name__ == "__main__":
    unittest.main()
