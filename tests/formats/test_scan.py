"""Bulk scans: the vectorised framing walk finds what framing.walk finds, errors included."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xenrr.formats import (RECORD_CLASSES, Constraint, CrewEvent, CrewState, Dma, Durability,
                           Position, PositionMode, RecordError, TraceReader, UnknownRecordError,
                           framing, scan)
from xenrr.formats import verify as checks
from xenrr.formats.recordtype import RECORD_HEADER
from xenrr.formats.rectypes import REC_OPTIONAL

from tests.formats.strategies import records
from tests.formats.traces import (HEADER, RIP, assemble, crew_events, framed, one_of_each,
                                  write_trace)


def walked(block) -> list[tuple[int, int, int]]:
    return list(framing.walk(block))


def scanned(block) -> list[tuple[int, int, int]]:
    slots, words = scan.headers(block)
    return [(int(s) * 8, int(w) & 0xFFFFFFFF, int(w) >> 32) for s, w in zip(slots, words)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(*[records(cls) for cls in RECORD_CLASSES]), max_size=30))
def test_headers_agree_with_the_walk(recs):
    block = framed(*recs)
    assert scanned(block) == walked(block)


def test_data_that_looks_like_headers_is_stepped_over():
    fake = framed(CrewEvent(1, 1, 2, 3, Position(4, 5)))   # a whole record's bytes as DMA data
    dma = Dma(0xFFFF0000, 1, 0, len(fake) * 3, 0, Position(0, 0), fake * 3)
    block = framed(crew_events(1)[0], dma, *crew_events(2), dma)
    slots = np.frombuffer(block, "<u8")
    assert ((slots & np.uint64(0x7FFF0000)) == np.uint64(0x58520000)).sum() == 11  # 5 real, 6 fake
    assert scanned(block) == walked(block)
    assert [t for _, t, _ in scanned(block)] == [CrewEvent.TYPE, Dma.TYPE, CrewEvent.TYPE,
                                                 CrewEvent.TYPE, Dma.TYPE]


@pytest.mark.parametrize("block, message", [
    (b"\x00" * 12, "a block of 12 bytes cannot hold whole padded records"),
    (bytes(8) + framed(crew_events(1)[0]), "the block does not start with a record header"),
    (RECORD_HEADER.pack(CrewEvent.TYPE, 32) + bytes(24), "record at +0x0 leads to +0x28, where no"),
    (RECORD_HEADER.pack(CrewEvent.TYPE, 8) + bytes(8) + RECORD_HEADER.pack(0x1234, 0),
     "record at +0x0 leads to +0x10, where no record header is"),
])
def test_broken_framing_is_a_record_error(block, message):
    with pytest.raises(RecordError, match=message.replace("+", r"\+")):
        scan.headers(block)


def test_stats_count_what_the_records_are(tmp_path):
    path = tmp_path / "t.xrr"
    expected = write_trace(path, one_of_each() * 5 + crew_events(100, vcpus=3),
                           Durability(chunk_bytes=512), streams=2)
    with TraceReader(path) as r:
        s = scan.stats(r)
        everything = list(r.records())
        assert (s.chunks, s.records, s.raw_bytes, s.stored_bytes) == (
            r.footer.chunks, r.footer.records, r.footer.raw_bytes, r.footer.stored_bytes)
    assert len(everything) == len(expected) + 1
    by_type, by_actor = {}, {}
    for rec in everything:
        size = len(framed(rec))
        for table, key in ((by_type, rec.TYPE), (by_actor, rec[0] if rec.ACTOR else None)):
            if key is not None:
                entry = table.setdefault(key, [0, 0])
                entry[0] += 1
                entry[1] += size
    assert s.types == by_type and s.actors == by_actor
    assert s.ratio == s.raw_bytes / s.stored_bytes


def test_stats_count_unknown_optional_types_and_refuse_unknown_mandatory(tmp_path):
    optional = RECORD_HEADER.pack(REC_OPTIONAL | 0x5852_7777, 4) + bytes(8)
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER) + optional * 2)]))
    with TraceReader(path) as r:
        assert scan.stats(r).types[REC_OPTIONAL | 0x5852_7777] == [2, 32]
    path.write_bytes(assemble([(0, framed(HEADER)), (0, RECORD_HEADER.pack(0x5852_7777, 0))]))
    with TraceReader(path) as r, pytest.raises(
            UnknownRecordError, match=r"chunk 1 at 0x.*: unknown mandatory record type 0x58527777"):
        scan.stats(r)


def test_actors_beyond_the_dense_range(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [CrewEvent(5000, 1, 2, 0, Position(0, 0)), crew_events(1)[0],
                       CrewEvent(5000, 1, 2, 0, Position(1, 0))])
    with TraceReader(path) as r:
        assert scan.stats(r).actors == {0: [1, 56], 5000: [2, 112]}


def test_progress_reports_each_chunk_end(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(30), Durability(chunk_bytes=256))
    seen = []
    with TraceReader(path) as r:
        scan.stats(r, seen.append)
        assert seen == [c.end for c in r.chunks()] and seen[-1] == r.footer.offset


def test_arrays_are_the_records_of_one_class(tmp_path):
    path = tmp_path / "t.xrr"
    events = [e._replace(registers=0xFEDC0000 + i) for i, e in enumerate(crew_events(40))]
    constraints = [Constraint(0, 1, Position(i, i), Position(i + 1, 0)) for i in range(7)]
    write_trace(path, events + constraints + one_of_each(), Durability(chunk_bytes=512), streams=2)
    with TraceReader(path) as r:
        got = np.concatenate(list(scan.arrays(r, CrewEvent)))
        cons = np.concatenate(list(scan.arrays(r, Constraint)))
    decoded = sorted(events + [one_of_each()[1]], key=lambda e: (e.position.count, e.vcpu))
    rows = sorted(got.tolist(), key=lambda row: (row[4][0], row[0]))
    assert rows == [(e.vcpu, e.old_state, e.new_state, e.gfn, tuple(e.position), e.registers)
                    for e in decoded]
    assert cons.dtype == Constraint.LAYOUT.dtype
    assert sorted(cons["position"]["count"].tolist()) == [*range(7), 11]  # 11: one_of_each()


def test_arrays_need_a_fixed_size_class(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [])
    with TraceReader(path) as r, pytest.raises(RecordError, match="Dma is not a fixed-size record"):
        list(scan.arrays(r, Dma))


def test_values_are_the_fixed_parts_of_the_classes_asked_for_in_trace_order(tmp_path):
    path = tmp_path / "t.xrr"
    written = one_of_each() + crew_events(3)
    write_trace(path, written)
    with TraceReader(path) as r:
        got = list(scan.values(r, (CrewEvent, Constraint), (Dma,)))
    wanted = [x for x in written if type(x) in (CrewEvent, Constraint, Dma)]
    assert [t for t, _ in got] == [type(x).TYPE for x in wanted]
    for (_, values), record in zip(got, wanted):
        names = type(record).LAYOUT.flat_names
        assert values[names.index("position.count")] == record.position.count
    dma = got[[t for t, _ in got].index(Dma.TYPE)][1]
    assert dma[Dma.LAYOUT.flat_names.index("length")] == 5   # the data itself is not read


def test_values_refuse_a_record_of_the_wrong_size_naming_its_chunk(tmp_path):
    event = crew_events(1)[0]
    body = CrewEvent.CODEC.frame(event)
    short = RECORD_HEADER.pack(CrewEvent.TYPE, CrewEvent.CODEC.size - 8) + body[8:-8]
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER) + short)]))
    with TraceReader(path) as r, pytest.raises(RecordError,
                                               match=r"chunk 0 at .*crew_event at \+0x.*: "
                                                     r"expected a body of 48 bytes, got 40"):
        list(scan.values(r, (CrewEvent,)))


def test_positioned_names_each_position_with_its_actor():
    names = Constraint.LAYOUT.flat_names
    assert [(names[a], names[c]) for a, c in scan.positioned(Constraint)] == [
        ("vcpu", "position.count"), ("after_vcpu", "after_position.count")]
    names = Dma.LAYOUT.flat_names
    assert [(names[a], names[c]) for a, c in scan.positioned(Dma)] == [("actor", "position.count")]


def test_a_branch_trace_round_trips_with_rcx(tmp_path):
    """Revision 3: every path that reads positions gives back rcx, and the stats count 24-byte ones."""
    path = tmp_path / "t.xrr"
    header = HEADER._replace(position_mode=PositionMode.BRANCH)
    rep = [CrewEvent(1, CrewState.NONE, CrewState.CR, 0x20 + i, Position(7, RIP, rcx))
           for i, rcx in enumerate((0x300, 0x2FF, 0x12))]   # one rep movs, three iterations
    constraint = Constraint(0, 1, Position(3, RIP + 8), Position(7, RIP, 0x2FF))
    written = write_trace(path, rep + [constraint], header=header)
    with TraceReader(path) as r:
        assert list(r.records())[:-1] == written
        assert checks.verify(r).intact
        got = list(scan.values(r, (CrewEvent, Constraint)))
        events = np.concatenate(list(scan.arrays(r, CrewEvent)))
        stats = scan.stats(r)
    names = CrewEvent.LAYOUT.flat_names
    assert [v[names.index("position.rcx")] for _, v in got[:3]] == [0x300, 0x2FF, 0x12]
    names = Constraint.LAYOUT.flat_names
    assert got[3][1][names.index("after_position.rcx")] == 0x2FF
    assert events["position"]["rcx"].tolist() == [0x300, 0x2FF, 0x12]
    assert stats.types[CrewEvent.TYPE] == [3, 3 * 56] and stats.types[Constraint.TYPE] == [1, 64]
