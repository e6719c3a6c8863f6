"""BRANCH traces: a vCPU's position is (count, rip, rcx); the model numbers them in trace order."""

import re

import pytest
from hypothesis import given, settings

from tests.crew.sim.programs import recordings
from tests.crew.traces import HEADER as SYNC_HEADER
from tests.crew.traces import write_records
from xenrr.crew import constraints
from xenrr.crew.checker import CheckSummary, check
from xenrr.crew.constraints import ConstraintDeriver
from xenrr.crew.errors import InconsistentConstraint, MissingConstraint, PositionError
from xenrr.crew.history import check_trace, read_history, trace_sharing
from xenrr.crew.protocol import STATE, Access, Constraint, CrewEvent
from xenrr.crew.sharing import ActorSharing
from xenrr.formats import PositionMode, TraceReader
from xenrr.formats import records as rec
from xenrr.formats.enums import ACTOR_DEVICE_BASE

HEADER = SYNC_HEADER._replace(vcpus=8, position_mode=PositionMode.BRANCH)
N, R, W = Access.NONE, Access.READ, Access.WRITE
X, Y, Z = 0x10, 0x11, 0x12
A, B, C, D = 0xFFFFFFFF81000000, 0xFFFFFFFF81200000, 0xFFFFFFFF81300000, 0xFFFFFFFF81400000
P = rec.Position


def ev(vcpu, gfn, old, new, position):
    return rec.CrewEvent(vcpu=vcpu, old_state=STATE[old], new_state=STATE[new], gfn=gfn,
                         position=position)


def con(vcpu, position, after_vcpu, after_position):
    return rec.Constraint(vcpu=vcpu, after_vcpu=after_vcpu, position=position,
                          after_position=after_position)


# What Xen logs, in its order. vCPU 0 runs code without conditional branches: three
# points at count 10, two at 11. vCPU 1 is in a rep movs (rip B) from X to Z: its first
# iteration (rcx 0x300) faults on both frames at one position, and it is interrupted at
# the next iteration (rcx 0x2ff) to give Z up; then it moves on to count 6. vCPU 2 reads
# Z last, after vCPU 1's write, which vCPU 1 gave up long before.
LOGGED = [
    ev(0, X, N, W, P(10, A)),
    ev(0, Y, N, W, P(10, A + 4)),
    ev(0, X, W, R, P(10, A + 8)),         # given up for vCPU 1's read
    ev(1, X, N, R, P(5, B, 0x300)),
    ev(1, Z, N, W, P(5, B, 0x300)),       # the same instruction's write
    ev(1, Z, W, R, P(5, B, 0x2FF)),       # given up for vCPU 0's read, one iteration on
    ev(0, Z, N, R, P(11, A + 12)),
    ev(0, Y, W, N, P(11, A + 16)),        # given up for vCPU 1's write
    ev(1, Y, N, W, P(6, C)),
    ev(2, Z, N, R, P(3, D)),
]
# The trace: each increase after its constraints, which name the positions Xen logged.
WRITTEN = [
    *LOGGED[:3],
    con(1, P(5, B, 0x300), 0, P(10, A + 8)), *LOGGED[3:6],
    con(0, P(11, A + 12), 1, P(5, B, 0x2FF)), *LOGGED[6:8],
    con(1, P(6, C), 0, P(11, A + 16)), LOGGED[8],
    con(2, P(3, D), 1, P(5, B, 0x2FF)), LOGGED[9],    # a reader follows the last write
]
# The model's view: each vCPU's distinct positions numbered in trace order.
E, K = CrewEvent, Constraint
MODEL = [
    E(0, X, N, W, 0), E(0, Y, N, W, 1), E(0, X, W, R, 2),
    K(0, 2, 1, 0), E(1, X, N, R, 0), E(1, Z, N, W, 0), E(1, Z, W, R, 1),
    K(1, 1, 0, 3), E(0, Z, N, R, 3), E(0, Y, W, N, 4),
    K(0, 4, 1, 2), E(1, Y, N, W, 2),
    K(1, 1, 2, 0), E(2, Z, N, R, 0),
]


def derive(logged, mode=PositionMode.BRANCH) -> list:
    deriver = ConstraintDeriver(position_mode=mode)
    return [r for e in logged for r in deriver.feed(e)]


def read(path) -> list:
    with TraceReader(path) as reader:
        return list(read_history(reader))


def test_the_deriver_writes_the_positions_xen_logged():
    assert derive(LOGGED) == WRITTEN


def test_a_branch_trace_is_the_model_history_with_positions_numbered(tmp_path):
    trace = write_records(tmp_path / "t.xrr", WRITTEN, header=HEADER)
    assert read(trace) == MODEL
    summary = check_trace(trace)
    assert summary == check(MODEL, PositionMode.BRANCH) == CheckSummary(
        events=10, constraints=4, required=4, frames=3, actors=3)


def test_the_same_records_in_a_sync_entry_trace_fail(tmp_path):
    # Where the count alone is the position, one count has one rip.
    trace = write_records(tmp_path / "t.xrr", WRITTEN, header=HEADER._replace(
        position_mode=PositionMode.SYNC_ENTRY))
    with pytest.raises(PositionError, match="vCPU 0, frame 0x11, position 10: rip "
                                            "0xffffffff81000004, but an earlier record puts "
                                            "position 10 at rip 0xffffffff81000000"):
        check_trace(trace)


def test_sharing_of_a_branch_trace_spans_counts(tmp_path):
    trace = write_records(tmp_path / "t.xrr", WRITTEN, header=HEADER)
    sharing, damage = trace_sharing(trace, 10)
    assert damage is None
    assert [(f.frame, f.events, f.pingpong) for f in sharing.top] == [(Z, 4, []), (X, 3, []),
                                                                      (Y, 3, [])]
    assert sharing.actors == [ActorSharing(0, 5, 1, 5e6), ActorSharing(1, 4, 1, 4e6),
                              ActorSharing(2, 1, 0, None)]


@pytest.mark.parametrize("logged, message", [
    ([ev(0, X, N, W, P(10, A)), ev(0, Y, N, W, P(9, A + 4))],
     "vCPU 0, frame 0x11, position 9@0xffffffff81000004: the count of vCPU 0 goes down "
     "(it was at 10@0xffffffff81000000)"),
], ids=["count down"])
def test_an_order_no_execution_has_is_refused(tmp_path, logged, message):
    with pytest.raises(PositionError) as e:
        derive(logged)
    assert str(e.value) == message
    trace = write_records(tmp_path / "t.xrr", logged, header=HEADER)
    with pytest.raises(PositionError) as e:
        check_trace(trace)
    assert str(e.value) == message


@pytest.mark.parametrize("logged", [
    [ev(0, X, N, W, P(10, A)), ev(0, Y, N, W, P(10, A + 4)), ev(0, Z, N, W, P(10, A))],
    [ev(1, X, N, W, P(5, B, 0x300)), ev(1, Y, N, W, P(5, B, 0x2FF)),
     ev(1, Z, N, W, P(5, B, 0x300))],
], ids=["rip again", "rcx again"])
def test_a_position_left_and_reached_again_at_one_count_is_a_new_one(tmp_path, logged):
    # A branch-free function called twice in a row (Linux's paravirt irq code)
    # reaches the same (count, rip, rcx) again: the trace's order tells them apart.
    assert [r for r in derive(logged) if type(r) is rec.CrewEvent] == logged
    trace = write_records(tmp_path / "t.xrr", logged, header=HEADER)
    assert [e.position for e in read(trace) if type(e) is CrewEvent] == [0, 1, 2]
    assert check_trace(trace).events == 3


@pytest.mark.parametrize("written, error, message", [
    ([ev(1, Y, N, W, P(5, B)), con(1, P(4, C), 0, P(1, A))], PositionError,
     "a constraint naming vCPU 1 at position 4@0xffffffff81300000: the count of vCPU 1 goes "
     "down (it was at 5@0xffffffff81200000)"),
    ([ev(0, X, N, W, P(10, A)), con(1, P(5, B), 0, P(10, A + 4, 3))], InconsistentConstraint,
     "vCPU 0 passes 10@0xffffffff81000004 rcx 3 before vCPU 1 passes 5@0xffffffff81200000: "
     "vCPU 0 has not reached position 10@0xffffffff81000004 rcx 3"),
    ([ev(0, X, N, W, P(10, A)), ev(0, Y, N, W, P(11, A)), con(1, P(5, B), 0, P(10, A))],
     InconsistentConstraint,
     "vCPU 0 passes 10@0xffffffff81000000 before vCPU 1 passes 5@0xffffffff81200000: vCPU 0 "
     "gave up no frame at 10@0xffffffff81000000 that an increase still has to follow"),
    ([*WRITTEN[:3], *WRITTEN[4:]], MissingConstraint,
     "vCPU 1, frame 0x10, position 0: NONE->READ must follow vCPU 0 at position 2, and no "
     "logged constraint implies it; in the trace (BRANCH: positions numbered per vCPU in "
     "trace order), vCPU 0 position 2 is 10@0xffffffff81000008, vCPU 1 position 0 is "
     "5@0xffffffff81200000 rcx 768"),
], ids=["constrained count down", "source not reached", "no reduction there", "missing"])
def test_errors_name_trace_positions(tmp_path, written, error, message):
    trace = write_records(tmp_path / "t.xrr", written, header=HEADER)
    with pytest.raises(error) as e:
        check_trace(trace)
    assert type(e.value) is error and str(e.value) == message


def test_a_frame_taken_where_it_was_granted_is_accepted_by_position_mode():
    # Xen takes a frame at the position where it gave it only from a vCPU
    # blocked there or waiting there for a vCPU before it (patch 0010): a
    # BRANCH position; a SYNC_ENTRY reduction takes effect at the next one.
    logged = [ev(0, X, N, W, P(10, A)), ev(0, Y, N, W, P(10, A + 4)),
              ev(0, Y, W, N, P(10, A + 4)), ev(1, Y, N, W, P(3, A + 0x1000))]
    out = derive(logged)
    assert [r for r in out if type(r) is rec.CrewEvent] == logged
    assert [r for r in out if type(r) is rec.Constraint] == [
        rec.Constraint(vcpu=1, after_vcpu=0, position=P(3, A + 0x1000),
                       after_position=P(10, A + 4))]
    with pytest.raises(PositionError) as e:
        derive([ev(0, Y, N, W, P(10, A + 4)), ev(0, Y, W, N, P(10, A + 4))],
               PositionMode.SYNC_ENTRY)
    assert "reduced at or before position 10, where it was granted WRITE" in str(e.value)


def as_branch(p: int, actor: int):
    """A model position as a BRANCH one: three points per count, two of them iterations
    of one rep-string instruction; a device's position is its count."""
    if actor >= ACTOR_DEVICE_BASE:
        return P(p, 0)
    return P(p // 3, A + actor * 0x1000 + (p % 3 > 0) * 8, (0, 7, 6)[p % 3])


def branch_records(items) -> list:
    out = []
    for item in items:
        if type(item) is CrewEvent:
            out.append(ev(item.actor, item.frame, item.old, item.new,
                          as_branch(item.position, item.actor)))
        else:
            out.append(con(item.dst, as_branch(item.dst_pos, item.dst), item.src,
                           as_branch(item.src_pos, item.src)))
    return out


@settings(max_examples=150, deadline=None)
@given(recordings())
def test_model_recordings_with_branch_positions_derive_and_check_as_the_model_does(recording):
    # Positions renumbered in order stay in order: the model sees the same history. Where a
    # vCPU has several events at one position, a constraint naming it means its events there
    # so far, as replay counts them: one kept for an earlier event there does not stand for a
    # later one, which the model (one point per position) takes as implied.
    derived = derive(branch_records(recording.events))
    model = branch_records(recording.log)
    assert [r for r in derived if type(r) is rec.CrewEvent] == \
        [r for r in model if type(r) is rec.CrewEvent]
    extra = iter(derived)
    assert all(any(r == d for d in extra) for r in model), "a constraint of the model's is lost"
    for c in (r for r in derived if type(r) is rec.Constraint and r not in model):
        events_there = [r for r in recording.events if r.actor == c.after_vcpu]
        at = [r for r in branch_records(events_there) if r.position == c.after_position]
        assert len(at) > 1, f"{c} kept where its position holds one event"


def test_a_later_event_at_a_position_needs_its_own_constraint():
    # vCPU 0 gives frame X up at P (vCPU 1 takes it), takes it back, gives it up again, all
    # at P: vCPU 1 taking X again must wait for the second give-up, not the first.
    P0, P1, P1b = P(10, A), P(20, A + 0x1000), P(21, A + 0x1000)
    logged = [ev(0, X, N, W, P0), ev(0, X, W, N, P0), ev(1, X, N, W, P1),
              ev(1, X, W, N, P1b), ev(0, X, N, W, P0), ev(0, X, W, N, P0),
              ev(1, X, N, W, P1b)]
    out = derive(logged)
    constraints = [r for r in out if type(r) is rec.Constraint]
    assert [(c.vcpu, c.position, c.after_vcpu, c.after_position) for c in constraints] == [
        (1, P1, 0, P0), (0, P0, 1, P1b), (1, P1b, 0, P0)]


def test_a_constraint_implied_through_another_vcpu_is_dropped_after_its_source_moved_on():
    # vCPU 2 reads X after vCPU 1's write, then gives Z up to vCPU 3, which then reads X:
    # vCPU 3 has passed vCPU 1's give-up through vCPU 2, though vCPU 1 has left that position.
    Q1, Q2, Q3 = P(1, A), P(2, A), P(3, A)
    S1, S2, S3 = P(1, C), P(2, C), P(3, C)
    T1, T2 = P(1, D), P(2, D)
    logged = [ev(1, X, N, W, Q1), ev(1, X, W, R, Q2), ev(2, X, N, R, S1),
              ev(2, Z, N, R, S2), ev(1, Y, N, R, Q3), ev(2, Z, R, N, S3),
              ev(3, Z, N, W, T1), ev(3, X, N, R, T2)]
    constraints = [r for r in derive(logged) if type(r) is rec.Constraint]
    assert [(c.vcpu, c.position, c.after_vcpu, c.after_position) for c in constraints] == [
        (2, S1, 1, Q2), (3, T1, 2, S3)]


@pytest.mark.parametrize("prune_every", [1, constraints._PRUNE_EVERY])
def test_a_vcpu_that_left_a_position_is_waited_for_up_to_its_last_event_there(
        monkeypatch, prune_every):
    # At Q vCPU 1 gives X up (vCPU 2 takes it), then Z; it moves on. vCPU 2 taking Z must
    # wait for the second give-up at Q, which it does not know of, however often the
    # deriver forgets counts no frame refers to.
    monkeypatch.setattr(constraints, "_PRUNE_EVERY", prune_every)
    Q0, Q, Q2 = P(1, A), P(2, A), P(3, A)
    S1, S2 = P(1, C), P(2, C)
    logged = [ev(1, X, N, W, Q0), ev(1, Z, N, W, Q0), ev(1, X, W, N, Q),
              ev(2, X, N, W, S1), ev(1, Z, W, N, Q), ev(1, Y, N, R, Q2),
              ev(2, Z, N, W, S2)]
    kept = [r for r in derive(logged) if type(r) is rec.Constraint]
    assert [(c.vcpu, c.position, c.after_vcpu, c.after_position) for c in kept] == [
        (2, S1, 1, Q), (2, S2, 1, Q)]


def test_model_recordings_read_back_from_branch_traces(tmp_path):
    @settings(max_examples=40, deadline=None)
    @given(recordings())
    def run(recording):
        path = tmp_path / "t.xrr"
        path.unlink(missing_ok=True)
        write_records(path, branch_records(recording.log), header=HEADER)
        with TraceReader(path) as reader:
            history = list(read_history(reader))
        assert check_trace(path) == check(recording.log)
        numbers: dict[int, dict[int, int]] = {}
        for item in recording.log:
            actors = [(item.actor, item.position)] if type(item) is CrewEvent else [
                (item.dst, item.dst_pos)]
            for actor, position in actors:
                if actor < ACTOR_DEVICE_BASE:
                    seen = numbers.setdefault(actor, {})
                    seen.setdefault(position, len(seen))

        def number(actor, position):
            return position if actor >= ACTOR_DEVICE_BASE else numbers[actor][position]
        assert history == [
            item._replace(position=number(item.actor, item.position)) if type(item) is CrewEvent
            else item._replace(src_pos=number(item.src, item.src_pos),
                               dst_pos=number(item.dst, item.dst_pos))
            for item in recording.log]
    run()


def test_a_device_counts_its_transactions_in_a_branch_trace_too(tmp_path):
    dev = ACTOR_DEVICE_BASE
    logged = [ev(dev, Z, N, W, P(0, 0)), ev(dev, Z, W, N, P(1, 0)), ev(0, Z, N, R, P(10, A, 4))]
    written = derive(logged)
    assert written == [*logged[:2], con(0, P(10, A, 4), dev, P(1, 0)), logged[2]]
    trace = write_records(tmp_path / "t.xrr", written, header=HEADER)
    assert read(trace) == [E(dev, Z, N, W, 0), E(dev, Z, W, N, 1), K(dev, 1, 0, 0),
                           E(0, Z, N, R, 0)]
    assert check_trace(trace).constraints == 1


def test_a_position_mode_the_model_does_not_know_is_refused(tmp_path):
    message = "position_mode 9 is not one of 1 (SYNC_ENTRY), 2 (BRANCH)"
    with pytest.raises(PositionError, match=re.escape(message)):
        ConstraintDeriver(position_mode=9)
    trace = write_records(tmp_path / "t.xrr", LOGGED[:1], header=HEADER._replace(position_mode=9))
    with pytest.raises(PositionError, match=re.escape(message)):
        check_trace(trace)
