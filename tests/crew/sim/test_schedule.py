"""schedule.ReplaySchedule: when an actor may pass a position; logs it rejects."""

import pytest

from xenrr.crew.actors import device_actor
from xenrr.crew.protocol import Constraint
from xenrr.crew.errors import ConstraintCycle, UnreachablePosition
from xenrr.crew.sim.schedule import ReplaySchedule

LAST = {0: 5, 1: 5, 2: 5}


def test_an_actor_waits_at_a_position_until_the_source_arrives():
    schedule = ReplaySchedule(LAST, [Constraint(0, 3, 1, 2), Constraint(2, 1, 1, 2)])
    assert schedule.may_pass(1, 1, {0: 0, 1: 1, 2: 0})
    assert not schedule.may_pass(1, 2, {0: 2, 1: 2, 2: 1})
    assert not schedule.may_pass(1, 2, {0: 3, 1: 2, 2: 0})
    assert schedule.may_pass(1, 2, {0: 3, 1: 2, 2: 1})
    assert schedule.may_pass(0, 2, {0: 2, 1: 0, 2: 0})


def test_two_actors_waiting_at_the_same_positions_for_each_other_is_no_cycle():
    # Each faulted on a frame the other held and gave its own up where it
    # waited (docs/architecture.md "Positions"): both have arrived, both may pass.
    schedule = ReplaySchedule(LAST, [Constraint(0, 2, 1, 2), Constraint(1, 2, 0, 2)])
    assert schedule.may_pass(0, 2, {0: 2, 1: 2})
    assert schedule.may_pass(1, 2, {0: 2, 1: 2})


def test_a_cycle_is_rejected_and_named():
    with pytest.raises(ConstraintCycle) as e:
        ReplaySchedule(LAST, [Constraint(2, 1, 0, 1), Constraint(0, 3, 1, 2),
                              Constraint(1, 3, 0, 2)])
    assert str(e.value) == ("constraints form a cycle: vCPU 0 passes 3 before vCPU 1 passes 2; "
                            "vCPU 1 passes 3 before vCPU 0 passes 2")


def test_a_cycle_through_three_actors_is_rejected():
    with pytest.raises(ConstraintCycle) as e:
        ReplaySchedule(LAST, [Constraint(0, 2, 1, 1), Constraint(1, 2, 2, 1),
                              Constraint(2, 2, 0, 1)])
    assert str(e.value).count("passes") == 6


def test_an_actor_waiting_for_its_own_future_is_a_cycle():
    with pytest.raises(ConstraintCycle):
        ReplaySchedule(LAST, [Constraint(0, 4, 0, 3)])


@pytest.mark.parametrize(("constraint", "message"), [
    (Constraint(0, 6, 1, 1), "vCPU 0 passes 6 before vCPU 1 passes 1: vCPU 0 never reaches "
                             "position 6 (its stream ends at 5)"),
    (Constraint(0, 1, 1, 9), "vCPU 0 passes 1 before vCPU 1 passes 9: vCPU 1 never reaches "
                             "position 9 (its stream ends at 5)"),
    (Constraint(0, -1, 1, 1), "vCPU 0 passes -1 before vCPU 1 passes 1: vCPU 0 never reaches "
                              "position -1 (its stream ends at 5)"),
    (Constraint(7, 1, 1, 1), "vCPU 7 passes 1 before vCPU 1 passes 1: vCPU 7 has no stream"),
    (Constraint(device_actor(2), 1, 1, 1),
     "device 2 passes 1 before vCPU 1 passes 1: device 2 has no stream"),
])
def test_a_position_never_reached_is_rejected(constraint, message):
    with pytest.raises(UnreachablePosition) as e:
        ReplaySchedule(LAST, [constraint])
    assert str(e.value) == message
