"""The writer: on-disk states, flush and fsync policies, streams, the bulk path."""

import os
import stat

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xenrr.errors import UsageError
from xenrr.formats import (RECORD_CLASSES, Constraint, CrewEvent, Durability, EndOfTrace, Position,
                           RecordError, TraceHeader, TraceReader, TraceWriteError, TraceWriter,
                           VcpuState, framing)
from xenrr.formats.enums import EndReason
from xenrr.formats.fileformat import MAX_CHUNK_RAW

from tests.formats.strategies import records
from tests.formats.traces import HEADER, crew_events, framed, one_of_each, write_trace


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_partial_until_closed_then_renamed(tmp_path):
    path = tmp_path / "t.xrr"
    w = TraceWriter(path, HEADER)
    partial = tmp_path / "t.xrr.partial"
    assert not path.exists()
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    with TraceReader(partial) as r:
        assert r.header == HEADER and not r.complete
    w.write(crew_events(1)[0])
    w.close()
    assert not partial.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with TraceReader(path) as r:
        records = list(r.records())
        assert r.complete and not r.losses
    assert records == [HEADER, crew_events(1)[0], EndOfTrace(EndReason.STOPPED, 2, len(framed(HEADER)) + 56)]


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "t.xrr"
    path.write_bytes(b"old")
    with pytest.raises(TraceWriteError, match="t.xrr exists: a trace is never overwritten"):
        TraceWriter(path, HEADER)
    partial = tmp_path / "u.xrr.partial"
    partial.write_bytes(b"")
    with pytest.raises(TraceWriteError, match="u.xrr.partial exists: another recorder"):
        TraceWriter(tmp_path / "u.xrr", HEADER)
    assert path.read_bytes() == b"old"


def test_an_unencodable_header_creates_no_file(tmp_path):
    with pytest.raises(RecordError):
        TraceWriter(tmp_path / "t.xrr", HEADER._replace(vcpus=-1))
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_a_trace_write_error(tmp_path):
    with pytest.raises(TraceWriteError, match="cannot create .*: No such file or directory"):
        TraceWriter(tmp_path / "no" / "t.xrr", HEADER)


def test_chunks_are_cut_by_size_at_record_boundaries(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(22), Durability(chunk_bytes=256))
    with TraceReader(path) as r:
        sizes = [(c.stream, len(c.data)) for c in r.chunks()]
    # chunk 0 holds the header alone (flushed at open); 4 CREW events (56 bytes
    # each) fit in 256 bytes; the end_of_trace (32 bytes) comes last, alone.
    assert sizes == [(0, len(framed(HEADER))), *[(0, 224)] * 5, (0, 112), (0, 32)]


def test_chunks_are_cut_by_time(tmp_path):
    clock = Clock()
    path = tmp_path / "t.xrr"
    w = TraceWriter(path, HEADER, Durability(flush_seconds=1.0), clock=clock)
    events = crew_events(3)
    w.write(events[0])
    clock.now = 0.9
    w.write(events[1])
    with TraceReader(w.partial) as r:
        assert list(r.records()) == [HEADER]
    clock.now = 1.0
    w.write(events[2])
    with TraceReader(w.partial) as r:
        assert list(r.records()) == [HEADER, *events]


def test_tick_applies_the_time_policy_when_idle(tmp_path):
    clock = Clock()
    w = TraceWriter(tmp_path / "t.xrr", HEADER, Durability(flush_seconds=0.5), clock=clock)
    w.write(crew_events(1)[0])
    w.tick()
    with TraceReader(w.partial) as r:
        assert sum(1 for _ in r.chunks()) == 1
    clock.now = 0.5
    w.tick()
    with TraceReader(w.partial) as r:
        assert sum(1 for _ in r.chunks()) == 2


@pytest.fixture
def file_syncs(monkeypatch):
    """Counts fsync calls on regular files (directory syncs are not counted)."""
    calls = []
    real = os.fsync

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            calls.append(fd)
        real(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_fsync_only_at_open_and_close(tmp_path, file_syncs):
    write_trace(tmp_path / "t.xrr", crew_events(100),
                Durability(chunk_bytes=256, fsync_bytes=None, fsync_seconds=None))
    assert len(file_syncs) == 2


def test_fsync_by_size(tmp_path, file_syncs):
    write_trace(tmp_path / "t.xrr", crew_events(100), Durability(chunk_bytes=256, fsync_bytes=0,
                                                                 fsync_seconds=None))
    with TraceReader(tmp_path / "t.xrr") as r:
        chunks = sum(1 for _ in r.chunks())
    assert len(file_syncs) == 1 + chunks + 1  # open, every chunk after the header's, close


def test_fsync_by_time(tmp_path, file_syncs):
    clock = Clock()
    w = TraceWriter(tmp_path / "t.xrr", HEADER, Durability(chunk_bytes=256, fsync_bytes=None,
                                                           fsync_seconds=2.0), clock=clock)
    for record in crew_events(12):   # two chunks, unsynced
        w.write(record)
    assert len(file_syncs) == 1
    clock.now = 2.0
    w.tick()
    assert len(file_syncs) == 2


def test_streams_keep_their_order_and_are_indexed(tmp_path):
    path = tmp_path / "t.xrr"
    records = crew_events(50)
    write_trace(path, records, Durability(chunk_bytes=128), streams=3)
    with TraceReader(path) as r:
        streams = [c.stream for c in r.chunks()]
        index = np.concatenate(list(r.index()))
        got = [rec for rec in r.records() if isinstance(rec, CrewEvent)]
    assert list(index["stream"]) == streams and set(streams) == {0, 1, 2}
    for s in range(3):
        assert [e for e in got if e.position.count % 3 == s] == records[s::3]


def test_a_record_larger_than_a_chunk_gets_its_own(tmp_path):
    path = tmp_path / "t.xrr"
    big = VcpuState(vcpu=0, format=1, context=b"\x05" * 1000)
    write_trace(path, [crew_events(1)[0], big, crew_events(2)[1]], Durability(chunk_bytes=256))
    with TraceReader(path) as r:
        blocks = [len(c.data) for c in r.chunks()]
        assert big in list(r.records())
    assert blocks == [len(framed(HEADER)), 56, 1016, 56, 32]


def test_refusals(tmp_path):
    w = TraceWriter(tmp_path / "t.xrr", HEADER)
    with pytest.raises(RecordError):
        w.write(VcpuState(vcpu=0, format=1, context=bytes(MAX_CHUNK_RAW)))
    with pytest.raises(UsageError, match="not a trace record: 3"):
        w.write(3)
    with pytest.raises(UsageError, match="a stream id is a u32, got -1"):
        w.write(crew_events(1)[0], stream=-1)
    with pytest.raises(UsageError, match="end_of_trace record is written by close"):
        w.write(EndOfTrace(EndReason.STOPPED, 0, 0))
    w.close()
    w.close()
    with pytest.raises(UsageError, match="write after close"):
        w.write(crew_events(1)[0])
    with pytest.raises(UsageError, match="chunk size must be 64 to 16777216 bytes, got 8"):
        Durability(chunk_bytes=8)


def test_an_exception_closes_the_trace_with_reason_error(tmp_path):
    path = tmp_path / "t.xrr"
    with pytest.raises(KeyError):
        with TraceWriter(path, HEADER) as w:
            w.write(crew_events(1)[0])
            raise KeyError("recorder failed")
    with TraceReader(path) as r:
        assert list(r.records())[-1].reason == EndReason.ERROR


def test_write_array_writes_what_write_does(tmp_path):
    events = crew_events(300, vcpus=3)
    constraints = [Constraint(i % 2, 1 - i % 2, Position(i, 1), Position(i + 1, 2)) for i in range(50)]
    by_record, by_array = tmp_path / "a.xrr", tmp_path / "b.xrr"
    write_trace(by_record, events + constraints, Durability(chunk_bytes=1000))
    w = TraceWriter(by_array, HEADER, Durability(chunk_bytes=1000))
    for cls, records in ((CrewEvent, events), (Constraint, constraints)):
        array = np.zeros(len(records), cls.LAYOUT.dtype)
        for i, r in enumerate(records):
            array[i] = tuple(tuple(v) if isinstance(v, tuple) else int(v) for v in r)
        w.write_array(cls, array)
    w.close()
    assert by_array.read_bytes() == by_record.read_bytes()


def test_write_array_refusals(tmp_path):
    w = TraceWriter(tmp_path / "t.xrr", HEADER)
    with pytest.raises(RecordError, match="crew_event: expected a 1-d array"):
        w.write_array(CrewEvent, np.zeros(3, Constraint.LAYOUT.dtype))
    with pytest.raises(UsageError, match="fixed-size record class, got VcpuState"):
        w.write_array(VcpuState, np.zeros(3))


def test_every_record_type_round_trips(tmp_path):
    path = tmp_path / "t.xrr"
    expected = write_trace(path, one_of_each() * 3, Durability(chunk_bytes=200))
    with TraceReader(path) as r:
        got = list(r.records())
    assert got[:-1] == expected and isinstance(got[-1], EndOfTrace)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=st.lists(st.one_of(*[records(cls) for cls in RECORD_CLASSES
                                 if cls not in (TraceHeader, EndOfTrace)]), max_size=60),
       chunk_bytes=st.sampled_from([64, 200, 4096]), streams=st.integers(1, 3))
def test_any_records_round_trip_through_a_file(tmp_path_factory, recs, chunk_bytes, streams):
    path = tmp_path_factory.mktemp("rt") / "t.xrr"
    write_trace(path, recs, Durability(chunk_bytes=chunk_bytes), streams=streams)
    with TraceReader(path) as r:
        got = [(c.stream, rec) for c in r.chunks() for rec in framing.decode(c.data)]
        assert r.complete and not r.losses
    assert got[0] == (0, HEADER) and isinstance(got[-1][1], EndOfTrace)
    for s in range(streams):
        assert [rec for stream, rec in got[1:-1] if stream == s] == recs[s::streams]
