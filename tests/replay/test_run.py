"""Replay under CREW from dom0: what is refused, each vCPU's entries, the rings fed, divergence."""

import os
import struct

import pytest

from xenrr.errors import TraceError
from xenrr.formats import (ConfigKind, Constraint, CrewEvent, CrewState, GuestType, Position,
                           PositionMode, TraceHeader, TraceReader, TraceWriter)
from xenrr.formats.enums import InputKind
from xenrr.formats.records import AsyncInput, Rdtsc, ReplayWait
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.privcmd import PAGE
from xenrr.hypercalls.rr import RunStop
from xenrr.replay import run
from xenrr.replay.feed import body, vcpu_entries
from xenrr.replay.run import DivergenceError, ReplayRefusedError, check_replayable, replay_trace
from xenrr.rrdomain.rings import ENTRY, RingWriter


FLAGS = ffi.offsetof("struct xen_rr_ring_header", "flags")


def header(vcpus=2, mode=PositionMode.BRANCH):
    return TraceHeader(domid=3, vcpus=vcpus, guest_type=GuestType.PV, position_mode=mode,
                       xenrr_interface=9, start_time=0, name="g", xen_version="4.17.5",
                       config_kind=ConfigKind.XL, config="")


def at(count, rip=0x1000, rcx=0):
    return Position(count=count, rip=rip, rcx=rcx)


def event(vcpu, count, old=CrewState.NONE, new=CrewState.EW, gfn=0x10, **where):
    return CrewEvent(vcpu=vcpu, old_state=old, new_state=new, gfn=gfn,
                     position=at(count, **where))


def trace(tmp_path, records, vcpus=2):
    path = tmp_path / "t.xrr"
    with TraceWriter(path, header=header(vcpus)) as w:
        for r in records:
            w.write(r)
    return path


def test_a_trace_by_branch_count_is_replayable_whatever_its_vcpus():
    check_replayable(header(vcpus=1))
    check_replayable(header(vcpus=4))


def test_positions_by_synchronous_entries_are_refused():
    with pytest.raises(ReplayRefusedError, match="counts positions by sync-entry.*--positions "
                                                 "branch$"):
        check_replayable(header(mode=int(PositionMode.SYNC_ENTRY)))   # as a trace gives it


def test_each_vcpu_gets_its_events_in_order_each_after_its_constraints_counted_in_events(tmp_path):
    records = [
        event(0, 5), event(0, 5, gfn=0x11), event(1, 3, gfn=0x12),
        event(0, 7, old=CrewState.EW, new=CrewState.NONE),
        Constraint(vcpu=1, after_vcpu=0, position=at(9), after_position=at(5)),
        event(1, 9),
        event(1, 11, old=CrewState.EW, new=CrewState.NONE),
        Constraint(vcpu=0, after_vcpu=1, position=at(20), after_position=at(11)),
        event(0, 20),
    ]
    with TraceReader(trace(tmp_path, records)) as reader:
        cut = vcpu_entries(reader, 2)
    # vCPU 0's two crew_events at count 5: "passed 5" is having applied both.
    assert cut[1].entries == [records[2], ReplayWait(vcpu=1, after_vcpu=0, events=2),
                              records[5], records[6]]
    assert cut[0].entries == [records[0], records[1], records[3],
                              ReplayWait(vcpu=0, after_vcpu=1, events=3), records[8]]
    assert (cut[0].events, cut[1].events) == (4, 3)


def tsc(vcpu, count, value, rip=0x2000):
    return Rdtsc(vcpu=vcpu, aux=0, tsc=value, position=at(count, rip=rip))


def test_a_vcpus_tsc_reads_keep_their_place_among_its_events_and_wait_for_nothing(tmp_path):
    records = [event(0, 5), tsc(1, 2, 0x111), tsc(0, 6, 0x222), event(1, 3, gfn=0x12),
               Constraint(vcpu=1, after_vcpu=0, position=at(9), after_position=at(5)),
               tsc(1, 8, 0x333), event(1, 9)]
    with TraceReader(trace(tmp_path, records)) as reader:
        cut = vcpu_entries(reader, 2)
    assert cut[0].entries == [records[0], records[2]]
    assert cut[1].entries == [records[1], records[3], ReplayWait(vcpu=1, after_vcpu=0, events=1),
                              records[5], records[6]]
    assert [(c.events, c.inputs) for c in cut] == [(1, 1), (2, 2)]


def published(vcpu, count, kind=InputKind.EVTCHN_PENDING, data=b"\x04" + bytes(7)):
    if kind in (InputKind.UPCALL, InputKind.WAKE):
        data = b""
    return AsyncInput(vcpu=vcpu, kind=kind, length=len(data), gfn=0x7f000, offset=0x800,
                      position=at(count, rip=0x3000), data=data)


def test_events_published_to_a_vcpu_keep_their_place_among_its_entries(tmp_path):
    records = [event(0, 5), published(0, 5), published(0, 5, InputKind.UPCALL), tsc(1, 2, 7),
               published(1, 4, InputKind.WAKE), event(1, 6, gfn=0x12)]
    with TraceReader(trace(tmp_path, records)) as reader:
        cut = vcpu_entries(reader, 2)
    assert cut[0].entries == records[:3] and cut[1].entries == records[3:]
    assert [(c.events, c.inputs) for c in cut] == [(1, 2), (1, 2)]
    # A ring entry carries the record's body as it is: its bytes, not padded.
    assert len(body(records[1])) == 48 + 8 and len(body(records[2])) == 48


def test_an_rdtsc_of_a_vcpu_the_trace_lacks_is_refused(tmp_path):
    with TraceReader(trace(tmp_path, [tsc(2, 1, 5)])) as reader, \
            pytest.raises(TraceError, match="an rdtsc of vCPU 2, but the trace has 2 vCPUs"):
        vcpu_entries(reader, 2)


def test_a_constraint_naming_no_logged_position_is_refused(tmp_path):
    records = [event(0, 5), Constraint(vcpu=1, after_vcpu=0, position=at(9),
                                       after_position=at(6)), event(1, 9)]
    with TraceReader(trace(tmp_path, records)) as reader, \
            pytest.raises(TraceError, match="names vCPU 0 at 6@0x1000, where it has no "
                                            "crew_event before the constraint"):
        vcpu_entries(reader, 2)


def test_a_device_event_is_refused_until_devices_are_logged(tmp_path):
    with TraceReader(trace(tmp_path, [event(0x10000, 1)])) as reader, \
            pytest.raises(TraceError, match="actor 0x10000: only the 2 vCPUs' can be replayed"):
        vcpu_entries(reader, 2)


def ring(data_pages=1):
    buf = bytearray(PAGE * (1 + data_pages))
    struct.pack_into("<I", buf, ffi.offsetof("struct xen_rr_ring_header", "size"),
                     PAGE * data_pages)
    return buf


def test_the_writer_lays_out_entries_as_xen_reads_them_and_keeps_what_is_not_taken():
    buf = ring()
    w = RingWriter(buf, 0)
    e = event(0, 5)._replace(registers=0x0123456789ABCDEF)
    assert w.put(7, CrewEvent.TYPE, body(e))
    assert struct.unpack_from("<Q", buf, 0)[0] == 0, "not published before publish()"
    w.publish()
    assert struct.unpack_from("<Q", buf, 0)[0] == ENTRY.size + 48
    assert ENTRY.unpack_from(buf, PAGE) == (7, CrewEvent.TYPE, 48)
    assert CrewEvent.CODEC.decode(buf, PAGE + ENTRY.size, 48) == e
    # Full: nothing Xen has not taken is overwritten.
    while w.put(8, CrewEvent.TYPE, body(e)):
        pass
    assert w.room() < ENTRY.size + 48
    w.end()
    assert struct.unpack_from("<I", buf, FLAGS)[0] & lib.XEN_RR_RING_end


def test_a_cons_xen_never_had_is_a_protocol_error():
    buf = ring()
    w = RingWriter(buf, 3)
    struct.pack_into("<Q", buf, 8, 10)
    with pytest.raises(Exception, match="ring of vCPU 3: cons 10 is outside"):
        w.room()


class Events:
    """The port's file: never fires, select() returns at its timeout."""

    def __init__(self):
        self.r, self.w = os.pipe()

    def fileno(self):
        return self.r

    def pending(self):
        return []


class FakeXen:
    """get_stop as Xen answers it: each vCPU takes one more crew_event or rdtsc per look,
    unless held once it has taken `hold`'s count of entries."""

    def __init__(self, entries, hold=None):
        self.entries, self.hold = entries, hold
        self.taken = [0] * len(entries)
        self.kicks = 0

    def kick(self, domid):
        self.kicks += 1

    def _counts(self, vcpu):
        taken = [e for e in self.entries[vcpu].entries
                 if type(e) is not ReplayWait][:self.taken[vcpu]]
        return (sum(type(e) is CrewEvent for e in taken),
                sum(type(e) in (Rdtsc, AsyncInput) for e in taken))

    def run_stop(self, domid, vcpu):
        mine = self.entries[vcpu]
        if self.hold and self.hold[0] == vcpu and self.taken[vcpu] == self.hold[1]:
            applied, inputs = self._counts(vcpu)
            return RunStop(self.hold[2], (0, 0, 0), (77, 0x4242, 0), 5, 1, applied,
                           registers=0xABC, holder=0, inputs=inputs)
        self.taken[vcpu] = min(mine.events + mine.inputs, self.taken[vcpu] + 1)
        applied, inputs = self._counts(vcpu)
        return RunStop("running", (0, 0, 0), (0, 0, 0), 5, 1, applied, inputs=inputs)


def two_vcpus(tmp_path):
    records = [event(0, 5), event(1, 3, gfn=0x12), event(0, 6, gfn=0x13),
               Constraint(vcpu=1, after_vcpu=0, position=at(9), after_position=at(5)),
               event(1, 9)]
    with TraceReader(trace(tmp_path, records)) as reader:
        return vcpu_entries(reader, 2)


def test_the_rings_are_filled_and_ended_and_the_domain_started_once(tmp_path):
    entries = two_vcpus(tmp_path)
    bufs = [ring(), ring()]
    xen, started = FakeXen(entries), []
    done = replay_trace(xen, 5, [RingWriter(b, v) for v, b in enumerate(bufs)], Events(),
                        entries, start=lambda: started.append(1), ended=lambda: None)
    assert started == [1] and xen.kicks == 1
    assert (done.applied, done.totals, done.ended) == ([2, 2], [2, 2], None)
    event_at, wait_at = ENTRY.size + 48, ENTRY.size + 16
    first = [ENTRY.unpack_from(bufs[1], PAGE + off)[1]
             for off in (0, event_at, event_at + wait_at)]
    assert first == [CrewEvent.TYPE, ReplayWait.TYPE, CrewEvent.TYPE]
    for b in bufs:
        assert struct.unpack_from("<I", b, FLAGS)[0] & lib.XEN_RR_RING_end


def held(entries, hold) -> str:
    """What replay_trace says of the vCPU Xen holds as hold = (vCPU, entries taken, state)."""
    with pytest.raises(DivergenceError) as e:
        replay_trace(FakeXen(entries, hold=hold), 5, [RingWriter(ring(), v) for v in range(2)],
                     Events(), entries, start=lambda: None, ended=lambda: None)
    return str(e.value)


@pytest.mark.parametrize(("state", "said"), [
    ("missed", "its count passed the position without meeting its rip and rcx"),
    ("unlogged", "it took a CREW fault where the trace has no change"),
    ("bad_entry", "Xen found a malformed entry in its ring"),
    ("registers", "its registers are not those recorded there (digest 0x0000000000000abc, "
                  "recorded 0x0000000000000000)"),
    ("conflict", "it would gain access to a frame that another vCPU still has (gfn 0x10, "
                 "held by vCPU 0: the trace lacks the constraint that orders them)"),
])
def test_a_held_vcpu_is_a_divergence_named_by_its_next_event(tmp_path, state, said):
    assert held(two_vcpus(tmp_path), (1, 1, state)) == (
        f"vCPU 1 diverged before its crew_event 2 of 2 at count 9 rip 0x1000 rcx 0x0: {said} "
        "(at count 77 rip 0x4242 rcx 0x0); the last that matched: crew_event at count 3 rip "
        "0x1000 rcx 0x0")


def with_tsc(tmp_path):
    records = [event(0, 5), tsc(1, 2, 0x111), event(1, 3, gfn=0x12), tsc(1, 4, 0x222)]
    with TraceReader(trace(tmp_path, records)) as reader:
        return vcpu_entries(reader, 2)


def test_the_replay_ends_once_every_vcpu_took_its_tsc_reads_too(tmp_path):
    entries = with_tsc(tmp_path)
    done = replay_trace(FakeXen(entries), 5, [RingWriter(ring(), v) for v in range(2)],
                        Events(), entries, start=lambda: None, ended=lambda: None)
    assert (done.applied, done.inputs, done.input_totals) == ([1, 1], [0, 2], [0, 2])


def test_a_tsc_read_the_trace_lacks_is_named_by_the_rdtsc_expected(tmp_path):
    assert held(with_tsc(tmp_path), (1, 2, "input")) == (
        "vCPU 1 diverged before its rdtsc 2 of 2 at count 4 rip 0x2000 rcx 0x0: it read the TSC, "
        "or blocked, where the trace has it do neither (at count 77 rip 0x4242 rcx 0x0); the last "
        "that matched: "
        "crew_event at count 3 rip 0x1000 rcx 0x0")


def test_a_vcpu_held_at_an_input_it_may_not_write_is_named_by_it(tmp_path):
    records = [event(1, 3, gfn=0x12), tsc(1, 4, 0x222), published(1, 5)]
    with TraceReader(trace(tmp_path, records)) as reader:
        entries = vcpu_entries(reader, 2)
    # Its inputs are of two kinds, counted together as Xen counts them.
    assert held(entries, (1, 2, "input")) == (
        "vCPU 1 diverged before its input 2 of 2, an async_input (evtchn_pending), at count 5 "
        "rip 0x3000 rcx 0x0: it may not write the input's frame there (gfn 0x7f000) (at count "
        "77 rip 0x4242 rcx 0x0); the last that matched: rdtsc at count 4 rip 0x2000 rcx 0x0")


def test_a_guest_that_ends_stops_the_feeding(tmp_path):
    entries = two_vcpus(tmp_path)
    done = replay_trace(FakeXen(entries, hold=(0, 0, "waiting")), 5,
                        [RingWriter(ring(), v) for v in range(2)], Events(), entries,
                        start=lambda: None, ended=lambda: "poweroff")
    assert done.ended == "poweroff" and done.applied[0] == 0


def test_a_replay_where_nothing_moves_is_given_up_on(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "STALL_SECONDS", 0.1)
    entries = two_vcpus(tmp_path)
    with pytest.raises(DivergenceError, match=r"^no vCPU took an entry in 0 s \(vCPU 0 "
                                              r"waiting after 0 of 2, vCPU 1 running after 2 "):
        replay_trace(FakeXen(entries, hold=(0, 0, "waiting")), 5,
                     [RingWriter(ring(), v) for v in range(2)], Events(), entries,
                     start=lambda: None, ended=lambda: None)


def test_prod_is_stored_only_when_it_moves():
    """Xen reads prod while dom0 writes: a rewrite of the same value must not pass through 0."""
    buf = ring()
    w = RingWriter(buf, 0)
    assert w.put(1, CrewEvent.TYPE, body(event(0, 5)))
    w.publish()
    struct.pack_into("<Q", buf, 0, 0xdead)   # as if Xen saw something else there now
    w.publish()
    assert struct.unpack_from("<Q", buf, 0)[0] == 0xdead, "an unmoved prod is not rewritten"
