"""Inputs from outside the guest in the patched hypervisor: every TSC read logged and replayed.

The tsc micro-guest reads the TSC on each vCPU and lets the values decide
its work and its outcome, which differs from run to run natively. Xen
emulates every read of a recorded domain's TSC and logs the value at the
read's position (patch 0019); replay returns each value there, so the
guest computes what it recorded. A read the trace lacks is a divergence
found at that read.
"""

import pytest

from tests.lab.dom0run import assert_xen_healthy
from tests.lab.replaying import record_micro, replay, replay_as_recorded, rewrite
from xenrr.formats import AsyncInput, CrewEvent, Rdtsc, TraceReader

pytestmark = pytest.mark.lab

VCPUS = 2
ITERATIONS = 1000


@pytest.fixture(scope="module")
def recorded(lab):
    """The tsc micro-guest recorded by branch count: its config, trace and console report."""
    return record_micro(lab, "tsc", VCPUS, f"replay-tsc-{VCPUS}v", iterations=ITERATIONS)


def reads(trace) -> dict[int, list]:
    with TraceReader(trace) as reader:
        found = {v: [] for v in range(VCPUS)}
        for r in reader.records(frozenset({Rdtsc.TYPE})):
            found[r.vcpu].append(r)
    return found


def test_every_read_of_the_tsc_is_logged_once_and_replayed_with_its_value(lab, recorded):
    cfg, trace, recorded_report = recorded
    logged = reads(trace)
    # The workload's reads, each logged once with the value the guest got; the guest itself
    # reads nothing else.
    assert {v: len(r) for v, r in logged.items()} == {v: ITERATIONS for v in range(VCPUS)}
    for mine in logged.values():
        values = [r.tsc for r in mine]
        assert values == sorted(values) and len(set(values)) == len(values), "a TSC went back"
    summary = replay_as_recorded(lab, cfg, trace, recorded_report)
    # Its reads, and the events dom0's console sent it (masked, but published: patch 0020).
    with TraceReader(trace) as reader:
        published = [r.vcpu for r in reader.records(frozenset({AsyncInput.TYPE}))]
    assert summary["inputs"] == {str(v): ITERATIONS + published.count(v) for v in range(VCPUS)}
    assert_xen_healthy(lab)


def test_a_read_missing_from_the_trace_is_a_divergence_at_that_read(lab, recorded):
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        records = list(reader.records())
    mine = [r for r in records if isinstance(r, Rdtsc) and r.vcpu == 1]
    # One followed by another read in vCPU 1's entries, nothing between: that one is due.
    taken = [r for r in records if isinstance(r, (Rdtsc, CrewEvent)) and r.vcpu == 1]
    pairs = [i for i in range(len(taken) - 1)
             if isinstance(taken[i], Rdtsc) and isinstance(taken[i + 1], Rdtsc)]
    assert pairs, "no two reads of vCPU 1 in a row"
    i = pairs[len(pairs) // 2]
    dropped, due = taken[i], taken[i + 1]
    index = mine.index(dropped)
    tampered = rewrite(lab, records, "replay-tsc-dropped", lambda r: None if r is dropped else r)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    at = dropped.position
    assert last.startswith(
        f"xenrr: vCPU 1 diverged before its rdtsc {index + 1} of {len(mine) - 1} at count "
        f"{due.position.count} rip {due.position.rip:#x} rcx {due.position.rcx:#x}: it read "
        f"the TSC, or blocked, where the trace has it do neither (at count {at.count} rip "
        f"{at.rip:#x} rcx {at.rcx:#x}); the last that matched: "), last
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)
