"""Micro-guests in the lab: every workload boots, runs and says PASS.

One lab boot serves the session (the `lab` fixture).  A guest costs a few
seconds of dom0 toolstack time (its workload, at the default iteration
counts, well under one), so guests of one mode run in one dom0 command and
the race is run only until it has shown two outcomes.
"""

import json

import pytest

from xenrr.lab import micro
from xenrr.lab.micro import builder, report, workloads, xlconfig

pytestmark = pytest.mark.lab

VCPUS = 2
GUEST_TIMEOUT = 120
RACE_RUNS = 6


def run_guests(lab, cfgs, *options: str):
    """Run domUs one after another from one dom0 command: [(status, summary, report)]."""
    proc = lab.run(["xenrr", "lab", "domu", *map(str, cfgs), "--json",
                    "--timeout", str(GUEST_TIMEOUT), *options],
                   timeout=(GUEST_TIMEOUT + 60) * len(cfgs))
    summaries = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(summaries) == len(cfgs), proc.stderr
    return [(0 if s["reason"] == "poweroff" else 1, s, report.parse(s["console"]))
            for s in summaries]


def run_guest(lab, cfg, *options: str):
    """Run one domU from dom0: (exit status, JSON summary, parsed console)."""
    return run_guests(lab, [cfg], *options)[0]


def assert_passed(status, summary, rep, workload, vcpus=VCPUS):
    assert (status, summary["reason"], rep.passed) == (0, "poweroff", True), summary["console"]
    assert (rep.workload, rep.vcpus) == (workload, vcpus)
    assert rep.digest is not None
    regions = {p.region for p in rep.pages}
    assert {"control", "report"} <= regions
    for page in rep.pages:
        assert page.gfn == page.va >> 12
    assert len({p.mfn for p in rep.pages}) == len(rep.pages)


def check_locked(rep):
    assert int(rep.result["counter"]) == int(rep.result["expected"]) == VCPUS * rep.iterations


def check_pingpong(rep):
    assert int(rep.result["ping"]) == int(rep.result["pong"]) == rep.iterations


# Self-checks seen from outside, beyond the guest's own PASS.
OUTSIDE_CHECKS = {"locked": check_locked, "pingpong": check_pingpong}


@pytest.fixture(scope="module")
def every_workload(lab):
    """Every workload with 2 vCPUs, natively and in shadow mode: one dom0 command per mode."""
    names = [w.name for w in workloads.WORKLOADS]
    cfgs = [micro.config(name, vcpus=VCPUS) for name in names]
    return {(name, mode): run for mode, options in (("native", ()), ("shadow", ("--shadow",)))
            for name, run in zip(names, run_guests(lab, cfgs, *options))}


@pytest.mark.parametrize("mode", ["native", "shadow"])
@pytest.mark.parametrize("workload", [w.name for w in workloads.WORKLOADS])
def test_every_workload_runs_to_completion(every_workload, workload, mode):
    status, summary, rep = every_workload[(workload, mode)]
    assert_passed(status, summary, rep, workload)
    assert summary["mode"] == mode
    if workload in OUTSIDE_CHECKS:
        OUTSIDE_CHECKS[workload](rep)


@pytest.mark.parametrize("workload, vcpus", [("race", 1), ("locked", 4)])
def test_one_and_four_vcpus(lab, workload, vcpus):
    """The extremes of 1 to 4 vCPUs: alone the race loses nothing; four share the lock."""
    status, summary, rep = run_guest(lab, micro.config(workload, vcpus=vcpus))
    assert_passed(status, summary, rep, workload, vcpus)
    assert int(rep.result["counter"]) == vcpus * rep.iterations


def test_the_race_is_real(lab):
    """Native runs of the race end differently: what replay must pin down."""
    counters = []
    while len(counters) < RACE_RUNS and len(set(counters)) < 2:
        status, summary, rep = run_guest(lab, micro.config("race", vcpus=VCPUS))
        assert_passed(status, summary, rep, "race")
        counters.append(int(rep.result["counter"]))
    assert len(set(counters)) >= 2, counters


def test_a_guest_that_fails_is_reported_with_its_console(lab):
    cfg = builder.micro_dir() / "micro-bogus-2v.cfg"
    xlconfig.write(cfg, "micro-bogus-2v", builder.build(), VCPUS, "bogus iterations=3")
    status, summary, rep = run_guest(lab, cfg)
    assert status != 0
    assert summary["reason"] == "crash"
    assert (rep.passed, rep.failure) == (False, "unknown workload 'bogus'")
    assert "micro: FAIL unknown workload 'bogus'" in summary["console"]
