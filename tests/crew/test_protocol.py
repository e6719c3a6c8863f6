"""protocol.Frame: the CREW transitions of seeds/001 slides 11-14, one per test."""

import pytest

from xenrr.crew.protocol import Access, Constraint, CrewEvent, Frame, requirements
from xenrr.crew.errors import IllegalTransition, PositionError

N, R, W = Access.NONE, Access.READ, Access.WRITE


def frame_after(*events: tuple[int, Access, Access, int]) -> Frame:
    fr = Frame(0x10)
    for actor, old, new, pos in events:
        fr.apply(actor, old, new, pos)
    return fr


def test_an_untouched_frame_needs_no_reduction():
    fr = Frame(0x10)
    assert fr.victims(0, R) == []
    assert fr.victims(0, W) == []
    assert fr.apply(0, N, W, 1) == []
    assert (fr.writer, fr.holders) == (0, {0: W})


def test_a_read_reduces_the_owner_to_read():
    fr = frame_after((0, N, W, 1))
    assert fr.victims(1, R) == [(0, R)]
    fr.apply(0, W, R, 2)
    assert fr.apply(1, N, R, 5) == [(0, 2)]
    assert (fr.writer, fr.holders) == (None, {0: R, 1: R})


def test_a_reader_joining_follows_the_last_owner_giving_write_up():
    fr = frame_after((0, N, W, 1), (0, W, R, 2), (1, N, R, 5))
    assert fr.victims(2, R) == []
    assert fr.apply(2, N, R, 3) == [(0, 2)]
    assert fr.holders == {0: R, 1: R, 2: R}


def test_readers_of_a_never_written_frame_are_not_ordered():
    fr = frame_after((0, N, R, 1))
    assert fr.apply(1, N, R, 1) == []


def test_a_write_reduces_every_other_holder_to_none_latest_first():
    fr = frame_after((0, N, R, 1), (1, N, R, 1), (2, N, R, 1))
    assert fr.victims(1, W) == [(0, N), (2, N)]
    fr.apply(0, R, N, 4)
    fr.apply(2, R, N, 2)
    assert fr.apply(1, R, W, 3) == [(2, 2), (0, 4)]
    assert (fr.writer, fr.holders) == (1, {1: W})


def test_the_owner_gives_exclusive_write_to_a_writer():
    fr = frame_after((0, N, W, 1))
    assert fr.victims(1, W) == [(0, N)]
    fr.apply(0, W, N, 2)
    assert fr.apply(1, N, W, 1) == [(0, 2)]


def test_an_owner_needs_nothing_from_itself():
    fr = frame_after((0, N, W, 1))
    assert fr.victims(0, R) == []
    assert fr.victims(0, W) == []


@pytest.mark.parametrize(("before", "event", "message"), [
    ([], (1, R, N, 2), "vCPU 1, frame 0x10, position 2: READ->NONE, but it holds NONE"),
    ([(0, N, W, 1)], (1, N, R, 2),
     "vCPU 1, frame 0x10, position 2: NONE->READ while vCPU 0 holds WRITE"),
    ([(0, N, R, 1), (1, N, R, 1)], (1, R, W, 2),
     "vCPU 1, frame 0x10, position 2: READ->WRITE while the frame is also held by vCPU 0"),
    ([(0, N, R, 1)], (0, R, R, 2),
     "vCPU 0, frame 0x10, position 2: READ->READ changes nothing"),
])
def test_illegal_transitions_name_actor_frame_and_position(before, event, message):
    fr = frame_after(*before)
    with pytest.raises(IllegalTransition) as e:
        fr.apply(*event)
    assert str(e.value) == message


def test_a_reduction_must_come_after_the_grant():
    fr = frame_after((0, N, W, 3))
    with pytest.raises(PositionError) as e:
        fr.apply(0, W, R, 3)
    assert str(e.value) == ("vCPU 0, frame 0x10, position 3: reduced at or before "
                            "position 3, where it was granted WRITE")


def test_requirements_list_every_ordering_before_reduction():
    events = [CrewEvent(0, 1, N, W, 1), CrewEvent(0, 1, W, R, 2), CrewEvent(1, 1, N, R, 1),
              CrewEvent(2, 1, N, R, 1), CrewEvent(0, 1, R, N, 3), CrewEvent(1, 1, R, N, 2),
              CrewEvent(2, 1, R, W, 2)]
    assert list(requirements(events)) == [
        Constraint(0, 2, 1, 1), Constraint(0, 2, 2, 1),
        Constraint(1, 2, 2, 2), Constraint(0, 3, 2, 2)]
