"""Running a replayed vCPU through its logged positions: what is refused, the targets, divergence."""

import pytest

from xenrr.formats import (ConfigKind, CrewEvent, CrewState, GuestType, Position, PositionMode,
                           TraceHeader, TraceReader, TraceWriter)
from xenrr.hypercalls.rr import RunStop
from xenrr.replay import run
from xenrr.replay.run import (DivergenceError, ReplayRefusedError, check_replayable,
                              run_positions, vcpu_positions)


def header(vcpus=1, mode=PositionMode.BRANCH):
    return TraceHeader(domid=3, vcpus=vcpus, guest_type=GuestType.PV, position_mode=mode,
                       xenrr_interface=8, start_time=0, name="g", xen_version="4.17.5",
                       config_kind=ConfigKind.XL, config="")


def event(vcpu, count, rip=0x1000, rcx=0):
    return CrewEvent(vcpu=vcpu, old_state=CrewState.NONE, new_state=CrewState.EW, gfn=0x10,
                     position=Position(count=count, rip=rip, rcx=rcx))


def test_a_trace_of_one_vcpu_by_branch_count_is_replayable():
    check_replayable(header())


def test_more_than_one_vcpu_is_refused_saying_what_xen_lacks():
    with pytest.raises(ReplayRefusedError, match="^the trace has 2 vCPUs: replaying more than "
                                                 "one needs Xen to apply the trace's CREW"):
        check_replayable(header(vcpus=2))


def test_positions_by_synchronous_entries_are_refused():
    with pytest.raises(ReplayRefusedError, match="counts positions by sync-entry.*--positions "
                                                 "branch$"):
        check_replayable(header(mode=PositionMode.SYNC_ENTRY))


def test_a_vcpus_positions_come_in_trace_order_with_repeats_merged(tmp_path):
    path = tmp_path / "t.xrr"
    with TraceWriter(path, header=header(vcpus=2)) as w:
        for r in (event(0, 5), event(1, 3), event(0, 5), event(0, 9, rcx=2), event(0, 9),
                  event(0, 5, rip=0x2000)):
            w.write(r)
    with TraceReader(path) as reader:
        assert vcpu_positions(reader, 0) == [
            Position(count=5, rip=0x1000), Position(count=9, rip=0x1000, rcx=2),
            Position(count=9, rip=0x1000), Position(count=5, rip=0x2000)]
        assert vcpu_positions(reader, 1) == [Position(count=3, rip=0x1000)]


class FakeXen:
    """run_to and get_stop as Xen answers them: each target met, or missed where `miss` says."""

    def __init__(self, miss=None, running_polls=2):
        self.miss = miss
        self.targets = []
        self.polls = 0
        self.running_polls = running_polls

    def run_to(self, domid, vcpu, position):
        self.targets.append(position)
        self.polls = 0

    def run_stop(self, domid, vcpu):
        self.polls += 1
        target = self.targets[-1]
        if self.polls <= self.running_polls:
            return RunStop("running", target, (0, 0, 0), 0, 0)
        if target == self.miss:
            return RunStop("missed", target, (target[0] + 1, 0x4242, 0), 50, 3)
        return RunStop("stopped", target, target, 10 * len(self.targets), len(self.targets))


POSITIONS = [Position(count=c, rip=0x1000 + c) for c in (10, 20, 30)]


def test_each_position_is_run_to_in_turn_and_the_domain_started_once():
    xen, started, seen = FakeXen(), [], []
    done = run_positions(xen, 5, 0, POSITIONS, 3, start=lambda: started.append(1),
                         ended=lambda: None, progress=lambda p: seen.append(p.reached))
    assert xen.targets == [(10, 0x100a, 0), (20, 0x1014, 0), (30, 0x101e, 0)]
    assert started == [1] and seen == [1, 2, 3]
    assert (done.reached, done.total, done.steps, done.overflows) == (3, 3, 30, 3)


def test_a_missed_position_is_reported_with_what_was_found_and_the_last_match():
    xen = FakeXen(miss=(20, 0x1014, 0))
    with pytest.raises(DivergenceError) as e:
        run_positions(xen, 5, 0, POSITIONS, 3, start=lambda: None, ended=lambda: None)
    assert str(e.value) == (
        "vCPU 0 diverged at logged position 2 of 3: expected count 20 rip 0x1014 rcx 0x0, "
        "found count 21 rip 0x4242 rcx 0x0 (missed); the last that matched: count 10 rip "
        "0x100a rcx 0x0")


def test_a_guest_that_ends_before_its_position_diverged():
    xen = FakeXen(running_polls=10 ** 9)
    with pytest.raises(DivergenceError, match=r"^vCPU 0: the guest ended \(crash\) on its way "
                                              r"to count 10 rip 0x100a rcx 0x0$"):
        run_positions(xen, 5, 0, POSITIONS, 3, start=lambda: None, ended=lambda: "crash")


def test_a_vcpu_that_never_gets_there_is_given_up_on(monkeypatch):
    monkeypatch.setattr(run, "STALL_SECONDS", 0.05)
    xen = FakeXen(running_polls=10 ** 9)
    with pytest.raises(DivergenceError, match=r"^vCPU 0: did not reach count 10 rip 0x100a "
                                              r"rcx 0x0 in 0 s$"):
        run_positions(xen, 5, 0, POSITIONS, 3, start=lambda: None, ended=lambda: None)
