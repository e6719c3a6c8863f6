"""record.place: forced changes (an all-zero position) get their vCPU's later crew_place
position, order kept; in BRANCH mode only Xen's own accesses force."""

import pytest

from xenrr.formats import records as rec
from xenrr.record.place import Placer
from xenrr.rrdomain.rings import RingProtocolError

AT = rec.Position


def event(vcpu, gfn, old, new, count, rip=0x1000):
    return rec.CrewEvent(vcpu=vcpu, old_state=old, new_state=new, gfn=gfn,
                         position=AT(count, rip if count else 0))


def place(vcpu, count, rip):
    return rec.CrewPlace(vcpu=vcpu, position=AT(count, rip))


def run(records):
    placer = Placer()
    out = [r for record in records for r in placer.add(record)]
    placer.finish()
    return out


def test_records_pass_straight_through_while_nothing_is_forced():
    records = [event(0, 5, 0, 2, 1), event(1, 6, 0, 1, 1)]
    placer = Placer()
    assert [placer.add(r) for r in records] == [[records[0]], [records[1]]]


def test_forced_changes_take_the_position_of_their_vcpus_place_in_sequence_order():
    # vCPU 1 is granted 5 at 10 and loses it, forced, before it moves on; vCPU 0
    # takes it; vCPU 1's next forced change (of 6) goes with it to position 11.
    records = [event(1, 5, 1, 2, 10, 0xa0),
               event(1, 5, 2, 0, 0), event(0, 5, 0, 2, 40, 0xb0),
               event(1, 6, 2, 1, 0), event(0, 6, 0, 1, 41, 0xb8),
               place(1, 11, 0xa8), event(1, 7, 0, 2, 11, 0xa8)]
    assert run(records) == [event(1, 5, 1, 2, 10, 0xa0),
                            event(1, 5, 2, 0, 11, 0xa8), event(0, 5, 0, 2, 40, 0xb0),
                            event(1, 6, 2, 1, 11, 0xa8), event(0, 6, 0, 1, 41, 0xb8),
                            event(1, 7, 0, 2, 11, 0xa8)]


def test_each_vcpu_is_placed_on_its_own():
    records = [event(0, 5, 2, 0, 0), event(1, 6, 2, 0, 0), place(1, 3, 0x30),
               event(2, 6, 0, 2, 9), place(0, 8, 0x80)]
    assert run(records) == [event(0, 5, 2, 0, 8, 0x80), event(1, 6, 2, 0, 3, 0x30),
                            event(2, 6, 0, 2, 9)]


def test_a_forced_change_never_placed_fails_at_the_end():
    placer = Placer()
    assert placer.add(event(1, 5, 2, 0, 0)) == []
    assert placer.add(event(0, 5, 0, 2, 4)) == []
    with pytest.raises(RingProtocolError, match=r"vCPU 1 \(1\) were never placed"):
        placer.finish()


def test_a_place_with_nothing_forced_is_a_protocol_error():
    with pytest.raises(RingProtocolError, match="crew_place of vCPU 0 .* no change was forced"):
        Placer().add(place(0, 3, 0x30))


def test_a_count_of_zero_with_a_rip_is_a_position_and_nothing_is_held():
    # BRANCH mode: a vCPU that has run no conditional branch yet is at count 0,
    # its rip where it is; only an all-zero position waits for its place.
    records = [rec.CrewEvent(vcpu=v, old_state=old, new_state=new, gfn=gfn, position=AT(n, rip))
               for v, gfn, old, new, n, rip in ((0, 5, 0, 2, 0, 0x1000), (1, 5, 2, 0, 0, 0x2000),
                                                (1, 6, 0, 1, 7, 0x2040))]
    placer = Placer()
    assert [placer.add(r) for r in records] == [[r] for r in records]
    placer.finish()


