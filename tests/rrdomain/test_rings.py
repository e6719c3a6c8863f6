"""record.ring: entries taken off a ring as Xen's side writes them, wrap-around and damage."""

import pytest

from tests.rrdomain.fakering import FakeRing, crew_event
from xenrr.formats import records as rec
from xenrr.rrdomain.rings import ENTRY, RingProtocolError, RingReader


def test_entries_come_out_in_ring_order_and_cons_follows():
    ring = FakeRing()
    reader = RingReader(ring.buffer, vcpu=1)
    assert reader.drain() == []
    ring.put(4, 0x11, b"abc")
    ring.put(9, 0x12, b"")
    assert reader.drain() == [(4, 0x11, b"abc"), (9, 0x12, b"")]
    assert ring.cons == ring.prod == 2 * ENTRY.size + 8
    assert reader.drain() == []


def test_cons_is_written_only_by_a_drain_that_copied_entries():
    ring = FakeRing()
    reader = RingReader(ring.buffer, vcpu=0)
    ring.put(0, 1, b"x" * 8)
    assert ring.cons == 0
    assert reader.drain() == [(0, 1, b"x" * 8)]
    assert ring.cons == 24


def test_an_entry_split_by_the_end_of_the_data_area_is_joined():
    ring = FakeRing()
    reader = RingReader(ring.buffer, vcpu=0)
    body = bytes(range(200))
    seq = 0
    while ring.room() >= ENTRY.size + 200:   # fill, drain, refill: the next entry wraps
        ring.put(seq, 7, body)
        seq += 1
    assert len(reader.drain()) == seq
    split = ring.prod % ring.size + ENTRY.size + 200 > ring.size
    ring.put(seq, 7, body)
    assert split and reader.drain() == [(seq, 7, body)]


def test_a_ring_filled_to_the_last_byte_drains_whole():
    ring = FakeRing()
    reader = RingReader(ring.buffer, vcpu=0)
    body = bytes(ring.size // 4 - ENTRY.size)
    for seq in range(4):
        ring.put(seq, 3, body)
    assert ring.room() == 0
    with pytest.raises(BufferError):
        ring.put(4, 3, b"")
    assert [e[0] for e in reader.drain()] == [0, 1, 2, 3]
    assert ring.room() == ring.size


def test_a_crew_event_body_is_the_records():
    ring = FakeRing()
    event = crew_event(1, 0x1234, 42, rip=0xFFFF800000001000)
    ring.put_record(0, event)
    (seq, rtype, body), = RingReader(ring.buffer, vcpu=1).drain()
    assert rtype == rec.CrewEvent.TYPE
    assert rec.CrewEvent.CODEC.decode(body, 0, len(body)) == event


@pytest.mark.parametrize(("damage", "message"), [
    (lambda ring: ring.put(0, 1, b"12345678") or ring.set_prod(ring.prod - 8),
     "log ring of vCPU 2: the entry at offset 0 has a body of 8 bytes, only 0 are published"),
    (lambda ring: ring.put(0, 1, b"") or ring.set_prod(ring.prod - 4),
     "log ring of vCPU 2: 12 bytes at offset 0: less than an entry header"),
    (lambda ring: ring.set_prod(ring.size + 8),
     "log ring of vCPU 2: prod 4104 is outside [cons 0, cons + size 4096]"),
])
def test_a_broken_ring_is_a_protocol_error(damage, message):
    ring = FakeRing()
    damage(ring)
    with pytest.raises(RingProtocolError) as raised:
        RingReader(ring.buffer, vcpu=2).drain()
    assert str(raised.value) == message
    assert ring.cons == 0


def test_a_ring_may_hold_a_forced_changes_lower_seq_after_higher_ones():
    """A forced reduction's record reaches the ring after later-numbered ones."""
    ring = FakeRing()
    reader = RingReader(ring.buffer, vcpu=0)
    ring.put(7, 1, b"")
    ring.put(5, 1, b"")
    assert [seq for seq, _, _ in reader.drain()] == [7, 5]


def test_a_header_size_that_is_not_the_mappings_is_refused():
    ring = FakeRing(frames=3)
    with pytest.raises(RingProtocolError, match="says 8192 bytes of data, the mapping holds 4096"):
        RingReader(ring.buffer[:2 * 4096], vcpu=0)
