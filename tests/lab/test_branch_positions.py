"""Positions by branch count (BRANCH mode) in the patched hypervisor, on the lab's counting CPU.

Micro-guests recorded with `xenrr record --positions branch`: Xen counts
each vCPU's retired conditional branches exactly, the positions of a
1-vCPU guest come out the same run after run, and every workload's trace
verifies and is accepted by the CREW model. What the lab's QEMU counts, and
its overflow interrupt with and without skid, are tested without Xen in
test_pmu.py; that Xen offers the mode there, in test_control_plane.py.
"""

import pytest

from tests.lab.dom0run import xenrr_host
from xenrr.crew.history import check_trace
from xenrr.formats import CrewEvent, CrewState, PositionMode, TraceReader, XenFrame
from xenrr.lab import micro
from xenrr.lab.micro import report, workloads
from xenrr.lab.recording import record_guest

pytestmark = pytest.mark.lab

RECORD_TIMEOUT = 300
BRANCHES = 100000


def record_micro(lab, workload, vcpus, name, iterations=None):
    cfg = micro.config(workload, vcpus=vcpus, iterations=iterations)
    rec = record_guest(lab, cfg, name, timeout=RECORD_TIMEOUT, guest=cfg.stem,
                       options=("--positions", "branch"))
    assert rec.result.returncode == 0, rec.result.stderr + rec.console
    return rec, report.parse(rec.console)


def crew_events(trace):
    """The trace's header and the crew_events of the guest's own accesses: not those of
    the access Xen takes to shared_info to publish events at a position (dom0's console
    sends them whenever it likes)."""
    with TraceReader(trace) as reader:
        records = list(reader.records())
    shared_info = {r.mfn for r in records if isinstance(r, XenFrame)}
    return records[0], [r for r in records
                        if isinstance(r, CrewEvent) and r.gfn not in shared_info]


@pytest.fixture(scope="module")
def branches(lab):
    """The branches workload, 2 vCPUs, recorded twice; and with 1 vCPU twice."""
    return {(vcpus, run): record_micro(lab, "branches", vcpus, f"branches-{vcpus}v-{run}",
                                       iterations=BRANCHES)
            for vcpus in (1, 2) for run in (1, 2)}


def increase_at(events, vcpu, rip):
    """The one increase of vcpu's access logged at a position with this rip."""
    found = [e for e in events if e.vcpu == vcpu and e.position.rip == rip
             and e.new_state != CrewState.NONE and e.old_state == CrewState.NONE]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("vcpus", [1, 2])
@pytest.mark.parametrize("run", [1, 2])
def test_a_loop_of_n_conditional_branches_counts_exactly_n_on_every_vcpu(branches, vcpus, run):
    rec, rep = branches[(vcpus, run)]
    assert rep.passed, rec.console
    header, events = crew_events(rec.trace)
    assert header.position_mode == PositionMode.BRANCH
    before, after = int(rep.result["before_rip"], 16), int(rep.result["after_rip"], 16)
    for vcpu in range(vcpus):
        first, second = increase_at(events, vcpu, before), increase_at(events, vcpu, after)
        # The store before the loop faults with rcx = N, the one after with 0:
        # between them the vCPU retired exactly the loop's N branches.
        assert (first.position.rcx, second.position.rcx) == (BRANCHES, 0)
        assert second.position.count - first.position.count == BRANCHES


def test_the_positions_of_a_1_vcpu_guest_are_the_same_in_two_runs(branches):
    runs = [crew_events(branches[(1, run)][0].trace)[1] for run in (1, 2)]
    positions = [[(e.gfn, e.old_state, e.new_state, tuple(e.position)) for e in events]
                 for events in runs]
    assert len(positions[0]) > 10
    # Frames are the same: the two guests got the same machine frames only if
    # nothing else ran between them; compare where the guest was, in order.
    assert [p[1:] for p in positions[0]] == [p[1:] for p in positions[1]]


@pytest.fixture(scope="module")
def every_workload(lab):
    return {w.name: record_micro(lab, w.name, 2, f"every-{w.name}")
            for w in workloads.WORKLOADS}


@pytest.mark.parametrize("workload", [w.name for w in workloads.WORKLOADS])
def test_every_workload_recorded_in_branch_mode_verifies_and_the_model_accepts_it(
        every_workload, workload):
    rec, rep = every_workload[workload]
    assert rep.passed, rec.console
    verify = xenrr_host("log", "verify", rec.trace)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    summary = check_trace(rec.trace)
    assert summary.actors == 2
    header, events = crew_events(rec.trace)
    assert header.position_mode == PositionMode.BRANCH
    assert events and all(e.position.rip for e in events)
