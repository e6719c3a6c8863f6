"""record.recorder: the loop end to end, against a test double of the recorded domain."""

import threading
from types import SimpleNamespace

from tests.rrdomain.fakering import FakeRing
from tests.crew.test_constraints import as_record, racing_recording
from tests.crew.traces import HEADER
import pytest

from xenrr.errors import ModelError
from xenrr.formats import EndReason, PositionMode, TraceReader, TraceWriter
from xenrr.formats import records as rec
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.record.recorder import record
from xenrr.rrdomain.lifecycle import RrDomain
from xenrr.rrdomain.rings import RingProtocolError, RingReader
from xenrr.crew.history import check_trace


class FakeDomain(RrDomain):
    """Publishes a few events per wait, a vCPU's in its ring, out of seq order between
    rings; shuts down (or asks the recorder to stop) once all are out."""

    def __init__(self, events, nr_vcpus, stop=None, per_wait=2):
        self.pending = list(enumerate(events))
        self.rings = [FakeRing() for _ in range(nr_vcpus)]
        self.stop_event = stop
        self.per_wait = per_wait
        self.calls = []

    def wait(self, timeout):
        batch, self.pending = self.pending[:self.per_wait], self.pending[self.per_wait:]
        for seq, event in sorted(batch, key=lambda e: -e[1].vcpu):   # vCPU 1's ring first
            self.rings[event.vcpu].put_record(seq, event)
        if not self.pending and self.stop_event is not None:
            self.stop_event.set()

    def ended(self):
        return EndReason.SHUTDOWN if not self.pending and self.stop_event is None else None

    def stats(self):
        return SimpleNamespace(vcpus=[SimpleNamespace(position=7 * v) for v in range(2)])

    def pause(self):
        self.calls.append("pause")

    def unpause(self):
        self.calls.append("unpause")

    def disable(self):
        self.calls.append("disable")


def run(tmp_path, domain, stop, clock=None, positions=PositionMode.SYNC_ENTRY):
    path = tmp_path / "t.xrr"
    readers = [RingReader(r.buffer, v) for v, r in enumerate(domain.rings)]
    shown = []
    with TraceWriter(path, header=HEADER._replace(position_mode=positions)) as writer:
        reason = record(domain, readers, writer, stop, shown.append,
                        **({"clock": clock} if clock else {}), positions=positions)
    return path, reason, shown


def test_a_recording_until_shutdown_is_the_models_log(tmp_path):
    recording = racing_recording()
    domain = FakeDomain([as_record(e) for e in recording.events], 2)
    ticks = iter(range(100))
    path, reason, shown = run(tmp_path, domain, threading.Event(), lambda: next(ticks))
    assert reason == EndReason.SHUTDOWN and domain.calls == []
    with TraceReader(path) as r:
        records = list(r.records())
    assert records[1:-1] == [as_record(item) for item in recording.log]
    assert records[-1].reason == EndReason.SHUTDOWN
    assert check_trace(path)
    assert shown and shown[0].positions == (0, 7) and shown[0].trace_bytes > 0


def test_changes_forced_and_placed_later_are_written_where_they_took_effect(tmp_path):
    """As Xen logs a forced reduction: no position when made, a crew_place after it."""
    recording = racing_recording()
    entries, forced = [], 0
    for e in map(as_record, recording.events):
        if e.new_state < e.old_state:
            entries.append(e._replace(position=rec.Position(0, 0)))
            entries.append(rec.CrewPlace(vcpu=e.vcpu, position=e.position))
            forced += 1
        else:
            entries.append(e)
    assert forced > 0
    ticks = iter(range(100))
    path, reason, _ = run(tmp_path, FakeDomain(entries, 2), threading.Event(), lambda: next(ticks))
    with TraceReader(path) as r:
        records = list(r.records())
    assert records[1:-1] == [as_record(item) for item in recording.log]
    assert check_trace(path)


def test_a_stop_pauses_drains_disables_and_unpauses(tmp_path):
    stop = threading.Event()
    recording = racing_recording()
    domain = FakeDomain([as_record(e) for e in recording.events], 2, stop=stop, per_wait=3)
    path, reason, _ = run(tmp_path, domain, stop)
    assert reason == EndReason.STOPPED
    assert domain.calls == ["pause", "disable", "unpause"]
    with TraceReader(path) as r:
        events = [x for x in r.records() if type(x) is rec.CrewEvent]
    assert len(events) == len(recording.events)
    assert check_trace(path)


class DyingDomain(FakeDomain):
    """libvirt destroys it as the recorder is stopped: dying before the stop, or
    between the stop's check and its disable (Xen then answers ESRCH)."""

    def __init__(self, events, stop, dies_first):
        super().__init__(events, 2, stop=stop, per_wait=3)
        self.dies_first, self.dying = dies_first, False

    def wait(self, timeout):
        super().wait(timeout)
        self.dying = self.dying or (self.dies_first and not self.pending)

    def ended(self):
        return EndReason.SHUTDOWN if self.dying else None

    def disable(self):
        self.calls.append("disable")
        self.dying = True
        raise NoSuchDomainError("rr_op disable: no such domain")


def test_a_stop_of_a_dying_domain_closes_the_trace_as_ended(tmp_path):
    for dies_first, calls in ((True, []), (False, ["pause", "disable", "unpause"])):
        stop = threading.Event()
        recording = racing_recording()
        domain = DyingDomain([as_record(e) for e in recording.events], stop, dies_first)
        directory = tmp_path / str(dies_first)
        directory.mkdir()
        path, reason, _ = run(directory, domain, stop)
        assert (reason, domain.calls) == (EndReason.SHUTDOWN, calls)
        with TraceReader(path) as r:
            records = list(r.records())
        assert records[-1].reason == EndReason.SHUTDOWN
        assert sum(type(x) is rec.CrewEvent for x in records) == len(recording.events)
        assert check_trace(path)


def from_zero(record):
    """The record with every position's count one less: branch counts start at 0."""
    def at(p):
        return p._replace(count=p.count - 1)
    if type(record) is rec.Constraint:
        return record._replace(position=at(record.position),
                               after_position=at(record.after_position))
    return record._replace(position=at(record.position))


def test_in_branch_mode_every_change_comes_with_its_position_even_at_count_0(tmp_path):
    """As Xen logs in BRANCH mode: forced reductions at the position where they took effect,
    no crew_place; each vCPU's first change before it ran a conditional branch."""
    recording = racing_recording()
    entries = [from_zero(as_record(e)) for e in recording.events]
    assert {e.position.count for e in entries if e.new_state < e.old_state} - {0}
    assert [e.vcpu for e in entries if e.position.count == 0] == [1, 0]
    ticks = iter(range(100))
    path, reason, _ = run(tmp_path, FakeDomain(entries, 2), threading.Event(),
                          lambda: next(ticks), positions=PositionMode.BRANCH)
    assert reason == EndReason.SHUTDOWN
    with TraceReader(path) as r:
        records = list(r.records())
    assert records[0].position_mode == PositionMode.BRANCH
    assert records[1:-1] == [from_zero(as_record(item)) for item in recording.log]
    assert check_trace(path)


def test_in_branch_mode_a_change_forced_for_xens_own_access_waits_for_its_place(tmp_path):
    """Xen forces a holder only for its own accesses: logged with an all-zero position,
    placed by the holder's later crew_place; the trace has it at the placed position."""
    entries = [from_zero(as_record(e)) for e in racing_recording().events]
    forced = next(i for i, e in enumerate(entries) if e.new_state < e.old_state)
    victim, where = entries[forced].vcpu, entries[forced].position
    entries[forced] = entries[forced]._replace(position=rec.Position(0, 0))
    entries.insert(forced + 1, rec.CrewPlace(vcpu=victim, position=where))
    path, reason, _ = run(tmp_path, FakeDomain(entries, 2), threading.Event(),
                          positions=PositionMode.BRANCH)
    assert reason == EndReason.SHUTDOWN
    with TraceReader(path) as r:
        events = [x for x in r.records() if type(x) is rec.CrewEvent]
    assert events[forced].position == where
    assert check_trace(path)


def test_a_forced_change_never_placed_fails_the_recording(tmp_path):
    entries = [as_record(e) for e in racing_recording().events]
    forced = next(i for i, e in enumerate(entries) if e.new_state < e.old_state)
    entries[forced] = entries[forced]._replace(position=rec.Position(0, 0))
    domain = FakeDomain(entries, 2)
    with pytest.raises(RingProtocolError, match="never placed"):
        run(tmp_path, domain, threading.Event(), positions=PositionMode.BRANCH)


def test_the_constraint_deriver_reads_positions_in_the_traces_mode(tmp_path):
    """vCPU 1 back at a (count, rip) it left: one position in SYNC_ENTRY mode, where rip
    only checks; in BRANCH mode a third point, after the second (a branch-free function
    called twice), while a count going down is refused."""
    entries = [rec.CrewEvent(vcpu=1, old_state=0, new_state=2, gfn=gfn,
                             position=rec.Position(5, rip))
               for gfn, rip in ((0x10, 0xa0), (0x11, 0xb0), (0x12, 0xa0))]
    for mode in PositionMode:
        (tmp_path / mode.name).mkdir()
    path, reason, _ = run(tmp_path / "SYNC_ENTRY", FakeDomain(entries, 2), threading.Event())
    assert reason == EndReason.SHUTDOWN
    path, reason, _ = run(tmp_path / "BRANCH", FakeDomain(entries, 2), threading.Event(),
                          positions=PositionMode.BRANCH)
    assert reason == EndReason.SHUTDOWN and check_trace(path).events == 3
    down = entries + [entries[0]._replace(gfn=0x13, position=rec.Position(4, 0xa0))]
    (tmp_path / "DOWN").mkdir()
    with pytest.raises(ModelError, match="the count of vCPU 1 goes down"):
        run(tmp_path / "DOWN", FakeDomain(down, 2), threading.Event(),
            positions=PositionMode.BRANCH)
