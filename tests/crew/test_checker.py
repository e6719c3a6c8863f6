"""checker.check: legal CREW histories pass; each kind of violation is named."""

import pytest

from xenrr.crew.actors import device_actor
from xenrr.formats.enums import PositionMode
from xenrr.crew.checker import CheckSummary, check
from xenrr.crew.protocol import Access, Constraint, CrewEvent
from xenrr.crew.errors import (
    IllegalTransition, InconsistentConstraint, MissingConstraint, PositionError,
)

N, R, W = Access.NONE, Access.READ, Access.WRITE
X, Y = 0x10, 0x11
E, C = CrewEvent, Constraint
DEV = device_actor(0)

# vCPU 0 writes X; vCPU 1 reads it after vCPU 0 gave write up at 2.
HANDOVER = [E(0, X, N, W, 1), E(0, X, W, R, 2), C(0, 2, 1, 1), E(1, X, N, R, 1)]


def test_a_legal_history_is_counted():
    # vCPU 2 joins the readers, then takes X exclusively from both.
    history = HANDOVER + [C(0, 2, 2, 4), E(2, X, N, R, 4), E(0, X, R, N, 3), E(1, X, R, N, 5),
                          C(1, 5, 2, 5), C(0, 3, 2, 5), E(2, X, R, W, 5)]
    assert check(history) == CheckSummary(events=7, constraints=4, required=4, frames=1, actors=3)


def test_an_implied_constraint_may_be_left_out():
    # The slides' a->d: implied by b->c, so the log need not hold it.
    history = [E(0, X, N, W, 1), E(0, Y, N, W, 2), E(0, X, W, R, 3), E(0, Y, W, R, 4),
               C(0, 4, 1, 1), E(1, Y, N, R, 1), E(1, X, N, R, 2)]
    assert check(history).required == 2


@pytest.mark.parametrize("mode", list(PositionMode), ids=lambda m: m.name)
def test_one_instruction_may_fault_on_two_frames_only_when_positions_count_branches(mode):
    # A movs from X to Y: in BRANCH mode both faults are at the instruction's one
    # position; in SYNC_ENTRY mode each fault is an entry of its own, so a count of its own.
    history = HANDOVER + [E(1, Y, N, W, 1)]
    if mode == PositionMode.BRANCH:
        assert check(history, mode) == CheckSummary(events=4, constraints=1, required=1,
                                                    frames=2, actors=2)
    else:
        with pytest.raises(PositionError, match="vCPU 1, frame 0x11, position 1: a second "
                                                "CREW fault at position 1"):
            check(history, mode)


def test_a_device_takes_all_frames_of_a_transaction_at_one_position():
    history = [E(DEV, X, N, W, 0), E(DEV, Y, N, W, 0), E(DEV, X, W, N, 1), C(DEV, 1, 0, 1),
               E(0, X, N, W, 1)]
    assert check(history).actors == 2


@pytest.mark.parametrize(("history", "error", "message"), [
    (HANDOVER[:2] + HANDOVER[3:], MissingConstraint,
     "vCPU 1, frame 0x10, position 1: NONE->READ must follow vCPU 0 at position 2, "
     "and no logged constraint implies it"),
    ([E(0, X, N, W, 1), C(0, 2, 1, 1)], InconsistentConstraint,
     "vCPU 0 passes 2 before vCPU 1 passes 1: vCPU 0 has not reached position 2"),
    ([E(0, X, N, W, 1), E(0, X, W, R, 2), E(1, Y, N, W, 3), C(0, 2, 1, 1)],
     InconsistentConstraint,
     "vCPU 0 passes 2 before vCPU 1 passes 1: vCPU 1 is already at position 3"),
    ([E(0, X, N, W, 1), E(0, X, W, R, 2), E(0, Y, N, W, 3), C(0, 3, 1, 1), E(1, X, N, R, 1)],
     InconsistentConstraint,
     "vCPU 0 passes 3 before vCPU 1 passes 1: not an ordering the increase at "
     "vCPU 1, frame 0x10, position 1 requires"),
    (HANDOVER[:3], InconsistentConstraint,
     "vCPU 0 passes 2 before vCPU 1 passes 1: no increase follows it"),
    ([E(0, X, N, W, 1), C(0, 1, 0, 2)], InconsistentConstraint,
     "vCPU 0 passes 1 before vCPU 0 passes 2: an actor constrained by itself"),
    (HANDOVER[:3] + [C(0, 2, 1, 2)], InconsistentConstraint,
     "vCPU 0 passes 2 before vCPU 1 passes 2: vCPU 0 passes 2 before vCPU 1 passes 1 "
     "is still waiting for its increase"),
    ([E(0, X, N, W, 3), E(0, Y, N, W, 2)], PositionError,
     "vCPU 0, frame 0x11, position 2: after position 3"),
    ([E(0, X, N, W, 3), E(0, Y, N, W, 3)], PositionError,
     "vCPU 0, frame 0x11, position 3: a second CREW fault at position 3"),
    ([E(0, X, N, W, 1), E(1, X, N, W, 1)], IllegalTransition,
     "vCPU 1, frame 0x10, position 1: NONE->WRITE while the frame is also held by vCPU 0"),
])
def test_violations_are_named(history, error, message):
    with pytest.raises(error) as e:
        check(history)
    assert type(e.value) is error
    assert str(e.value) == message
