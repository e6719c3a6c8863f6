"""record.merge: entries of several rings back in the domain's one sequence."""

import pytest

from xenrr.record.merge import SeqMerger
from xenrr.rrdomain.rings import RingProtocolError


def entries(*seqs):
    return [(s, 1, bytes([s])) for s in seqs]


def test_interleaved_rings_come_out_in_seq_order():
    m = SeqMerger()
    m.add(entries(0, 2, 5))     # vCPU 0's ring
    m.add(entries(1, 3, 4))     # vCPU 1's ring
    assert [e[0] for e in m.ready()] == [0, 1, 2, 3, 4, 5]
    m.finish()


def test_entries_after_a_missing_seq_wait_for_it():
    m = SeqMerger()
    m.add(entries(0, 2, 3))
    assert [e[0] for e in m.ready()] == [0]
    assert m.ready() == []
    m.add(entries(1))           # a later drain of another ring
    assert m.ready() == entries(1, 2, 3)
    m.finish()


def test_a_gap_that_never_fills_is_reported_at_the_end():
    m = SeqMerger()
    m.add(entries(0, 1, 3, 4, 6))
    assert [e[0] for e in m.ready()] == [0, 1]
    with pytest.raises(RingProtocolError, match=r"^seq 2 never arrived: 3 later entries "
                                                r"\(seq 3 to 6\) could not be written in order"):
        m.finish()


@pytest.mark.parametrize("again", [0, 2])
def test_a_seq_logged_twice_is_a_protocol_error(again):
    m = SeqMerger()
    m.add(entries(0, 2))
    m.ready()
    with pytest.raises(RingProtocolError, match=f"seq {again} was logged twice"):
        m.add(entries(again))
