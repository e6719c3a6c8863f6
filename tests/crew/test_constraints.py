"""constraints: the constraints derived from Xen's events are the model recorder's own."""

import pytest
from hypothesis import given, settings

from tests.crew.sim.programs import recordings
from tests.crew.traces import write_records
from xenrr.errors import ModelError
from xenrr.formats import records as rec
from xenrr.crew.constraints import ConstraintDeriver
from xenrr.crew.errors import IllegalTransition
from xenrr.crew.sim.program import Read, Write
from xenrr.crew.sim.recording import Recorder, Vcpu, scripted
from xenrr.crew.history import check_trace
from xenrr.crew.protocol import STATE


def rip(actor: int, count: int) -> int:
    """A rip of its own for every position, so a wrong one shows."""
    return 0xFFFF800000000000 + (actor % 0x10000) * 0x10000 + count


def as_record(item):
    if hasattr(item, "frame"):
        return rec.CrewEvent(vcpu=item.actor, old_state=STATE[item.old],
                             new_state=STATE[item.new], gfn=item.frame,
                             position=rec.Position(item.position, rip(item.actor, item.position)))
    return rec.Constraint(vcpu=item.dst, after_vcpu=item.src,
                          position=rec.Position(item.dst_pos, rip(item.dst, item.dst_pos)),
                          after_position=rec.Position(item.src_pos, rip(item.src, item.src_pos)))


def derive(events) -> list:
    deriver = ConstraintDeriver()
    return [r for e in events for r in deriver.feed(as_record(e))]


@settings(max_examples=200, deadline=None)
@given(recordings())
def test_the_derived_log_is_the_recorders(recording):
    assert derive(recording.events) == [as_record(item) for item in recording.log]


# vCPU 1 writes X at its position 1 and vCPU 0 faults reading it; vCPU 1 is reduced at 2
# and goes on to write Z at 3 before vCPU 0's increase: the constraint names vCPU 1 at 2,
# whose rip is not the one of vCPU 1's latest event.
X, Y, Z = 0x10, 0x11, 0x12


def racing_recording():
    programs = [[Read(X, 0)], [Write(X, 0, 1), Write(Y, 0, 2), Write(Z, 0, 3)]]
    return Recorder([Vcpu(v, p) for v, p in enumerate(programs)]).run(
        scripted([1, 0, 1, 1, 1, 0, 0]))


def test_a_constraint_carries_the_rip_of_the_position_it_names(tmp_path):
    recording = racing_recording()
    written = derive(recording.events)
    constraint, = [r for r in written if type(r) is rec.Constraint]
    assert written.index(constraint) == 4   # after vCPU 1's event at position 3
    assert constraint.after_position == rec.Position(2, rip(1, 2))
    assert check_trace(write_records(tmp_path / "t.xrr", written))


def test_the_trace_fails_the_checker_without_a_derived_constraint(tmp_path):
    written = derive(racing_recording().events)
    dropped = next(i for i, r in enumerate(written) if type(r) is rec.Constraint)
    trace = write_records(tmp_path / "t.xrr", written[:dropped] + written[dropped + 1:])
    with pytest.raises(ModelError):
        check_trace(trace)


def test_an_event_the_frame_does_not_allow_is_refused():
    deriver = ConstraintDeriver()
    deriver.feed(rec.CrewEvent(vcpu=0, old_state=0, new_state=2, gfn=X,
                               position=rec.Position(1, 0)))
    with pytest.raises(IllegalTransition, match="vCPU 1, frame 0x10, position 1: NONE->WRITE "
                                                "while the frame is also held by vCPU 0"):
        deriver.feed(rec.CrewEvent(vcpu=1, old_state=0, new_state=2, gfn=X,
                                   position=rec.Position(1, 0)))
