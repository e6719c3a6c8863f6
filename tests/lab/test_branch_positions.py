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
from tests.lab.replaying import record_micro
from xenrr.crew.history import check_trace
from xenrr.formats import CrewEvent, CrewState, PositionMode, TraceReader, XenFrame
from xenrr.lab.micro import workloads

pytestmark = pytest.mark.lab


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
def micro_recording(lab):
    """record_micro(workload, vcpus) with the workload's default iterations, recorded once
    for the module's tests (which only read traces, so their frames need not stay free)."""
    recorded = {}

    def get(workload: str, vcpus: int):
        if (workload, vcpus) not in recorded:
            recorded[workload, vcpus] = record_micro(lab, workload, vcpus,
                                                     f"micro-{workload}-{vcpus}v")
        return recorded[workload, vcpus]
    return get


@pytest.fixture(scope="module")
def branches(lab, micro_recording):
    """The branches workload with 1 and with 2 vCPUs, each recorded twice (the first
    recording with 2 vCPUs is also the every-workload test's)."""
    return {(vcpus, run): micro_recording("branches", vcpus) if run == 1 else
            record_micro(lab, "branches", vcpus, f"branches-{vcpus}v-{run}")
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
    _, trace, rep = branches[(vcpus, run)]
    header, events = crew_events(trace)
    assert header.position_mode == PositionMode.BRANCH
    before, after = int(rep.result["before_rip"], 16), int(rep.result["after_rip"], 16)
    for vcpu in range(vcpus):
        first, second = increase_at(events, vcpu, before), increase_at(events, vcpu, after)
        # The store before the loop faults with rcx = N, the one after with 0:
        # between them the vCPU retired exactly the loop's N branches.
        assert (first.position.rcx, second.position.rcx) == (rep.iterations, 0)
        assert second.position.count - first.position.count == rep.iterations


def test_the_positions_of_a_1_vcpu_guest_are_the_same_in_two_runs(branches):
    runs = [crew_events(branches[(1, run)][1])[1] for run in (1, 2)]
    positions = [[(e.gfn, e.old_state, e.new_state, tuple(e.position)) for e in events]
                 for events in runs]
    assert len(positions[0]) > 10
    # Frames are the same: the two guests got the same machine frames only if
    # nothing else ran between them; compare where the guest was, in order.
    assert [p[1:] for p in positions[0]] == [p[1:] for p in positions[1]]


@pytest.mark.parametrize("workload", [w.name for w in workloads.WORKLOADS])
def test_every_workload_recorded_in_branch_mode_verifies_and_the_model_accepts_it(
        micro_recording, workload):
    _, trace, _ = micro_recording(workload, 2)
    verify = xenrr_host("log", "verify", trace)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    summary = check_trace(trace)
    assert summary.actors == 2
    header, events = crew_events(trace)
    assert header.position_mode == PositionMode.BRANCH
    assert events and all(e.position.rip for e in events)
