"""bench/tools/design.py — the experimental design of a report.

Randomized multiple interleaved trials (Abedi and Brecht, ICPE 2017), with the
process as the sample (Kalibera and Jones, ISMM 2013) and code layout as a
random effect (Mytkowicz et al., ASPLOS 2009):

- A *block* runs every system of a workload's comparison once, each in its
  own process, in a fresh random order. Blocks of different workloads are
  interleaved: block k visits every workload (in a fresh random order) before
  block k+1 starts, so each workload's blocks are spread over the whole run.
- A gmplab variant runs, in each block of a workload, a layout copy (its
  objects linked with another --shuffle-sections seed) that no other block
  of that workload uses, while copies last: the paired per-block ratios then
  average over layouts instead of inheriting one binary's luck.
- MillionParked (one cold process per sample, tens of seconds each) has its
  own, fewer blocks, spread evenly among the others.
- The floor (catalog.FLOOR) is a system like the others in the blocks of the
  workloads it has (catalog.FLOOR_WORKLOADS) and in no other, so each of its
  samples pairs with every system's sample of the same block.
- A confirmation round re-measures only the candidate best policy of each
  workload beside go_default, in fresh blocks, so a "best policy" is judged
  on data it was not chosen on.

Everything random comes from one seed, recorded in the report.
"""

import random

import catalog
import runner


class System:
    """A measured system: a gmplab variant (with layout copies) or a peer."""

    def __init__(self, name, kind, binary, layouts=None):
        self.name = name
        self.kind = kind          # "variant", "go", "peer" or "floor"
        self.binary = binary      # the default binary
        self.layouts = layouts or []  # [(copy number, path)] for variants

    def runs(self, workload, million_variants):
        if workload == "MillionParked" and self.kind == "variant":
            return self.name in million_variants
        if self.kind == "peer":
            return catalog.peer_supports(self.name, workload)[0]
        if self.kind == "floor":
            return catalog.floor_runs(workload)
        return True


def _argvs(system, binary, workload, procs, settings, hw):
    if system.kind == "go":
        return runner.go_argvs(binary, workload, procs, settings, hw)
    return runner.gbench_argvs(binary, workload, procs, settings,
                               peer=system.name if system.kind == "peer" else None)


def _jobs_for(system, workload, procs, settings, hw, block, layout_choice, phase):
    binary, layout = system.binary, None
    if system.layouts:
        layout, binary = layout_choice
    out = []
    for argv in _argvs(system, binary, workload, procs, settings, hw):
        label = "%s %s %d" % (workload, "block" if phase == "main" else phase, block + 1)
        if system.name == "boost_fiber" and "--procs=" in " ".join(argv):
            label += " " + [a for a in argv if a.startswith("--procs=")][0][2:]
        out.append(runner.Job(system.name, workload, argv,
                              "go" if system.kind == "go" else "gbench",
                              env={"GMPLAB_MILLION": str(settings["million"])}
                              if system.kind == "go" and workload == "MillionParked" else None,
                              timeout=settings["timeout"], label=label, block=block,
                              layout=layout, phase=phase))
    return out


class LayoutDealer:
    """Deals each variant's layout copies to the blocks of each workload:
    a fresh random permutation per (variant, workload), cycled if there are
    more blocks than copies."""

    def __init__(self, rng):
        self.rng = rng
        self.perms = {}

    def copy(self, system, workload, block):
        key = (system.name, workload)
        if key not in self.perms:
            perm = list(system.layouts)
            self.rng.shuffle(perm)
            self.perms[key] = perm
        perm = self.perms[key]
        return perm[block % len(perm)]


def plan_main(systems, workloads, procs, settings, hw, rng):
    """Jobs of the main blocks and the MillionParked blocks, in run order."""
    blocks = settings["blocks"]
    dealer = LayoutDealer(rng)
    regular = [w for w in workloads if catalog.MODE.get(w) != "default"]
    million = [w for w in workloads if catalog.MODE.get(w) == "default"]
    main_blocks = []
    for k in range(blocks):
        jobs = []
        for w in rng.sample(regular, len(regular)):
            eligible = [s for s in systems if s.runs(w, settings["million_variants"])]
            for s in rng.sample(eligible, len(eligible)):
                jobs += _jobs_for(s, w, procs, settings, hw, k,
                                  dealer.copy(s, w, k) if s.layouts else None, "main")
        main_blocks.append(jobs)
    million_blocks = []
    for k in range(settings["million_reps"] if million else 0):
        jobs = []
        for w in million:
            eligible = [s for s in systems if s.runs(w, settings["million_variants"])]
            for s in rng.sample(eligible, len(eligible)):
                jobs += _jobs_for(s, w, procs, settings, hw, k,
                                  dealer.copy(s, w, k) if s.layouts else None, "million")
        million_blocks.append(jobs)
    # Spread the MillionParked blocks evenly among the main ones: block j
    # goes after main block floor((j + 1/2) * B / m).
    m, b = len(million_blocks), len(main_blocks)
    after = {}
    for j in range(m):
        after.setdefault(min(b - 1, int((j + 0.5) * b / m)) if b else 0, []).append(j)
    out = []
    for k in range(max(b, 1)):
        if k < b:
            out += main_blocks[k]
        for j in after.get(k, []):
            out += million_blocks[j]
    return out


def plan_confirm(candidates, base, procs, settings, hw, rng, first_block):
    """Jobs of the confirmation round.

    candidates: {workload: [System]} the policies to confirm per workload;
    base: the baseline System. Block numbers start at first_block.
    """
    dealer = LayoutDealer(rng)
    jobs = []
    workloads = sorted(candidates)
    for c in range(settings["confirm_blocks"]):
        k = first_block + c
        for w in rng.sample(workloads, len(workloads)):
            systems = [base] + candidates[w]
            for s in rng.sample(systems, len(systems)):
                jobs += _jobs_for(s, w, procs, settings, hw, k,
                                  dealer.copy(s, w, c) if s.layouts else None, "confirm")
    return jobs


def new_rng(seed):
    return random.Random(seed)
