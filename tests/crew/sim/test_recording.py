"""recording.Recorder: CREW faults, reductions at positions, the constraints logged.

Each scenario fixes the interleaving with `scripted` and spells out the whole
log it must produce.
"""

import pytest

from xenrr.crew.checker import check
from xenrr.crew.protocol import Access, Constraint, CrewEvent
from xenrr.crew.sim.program import Read, Sync, Write
from xenrr.crew.sim.recording import Recorder, Vcpu, scripted

N, R, W = Access.NONE, Access.READ, Access.WRITE
X, Y = 0x10, 0x11
E, C = CrewEvent, Constraint


def record(programs, script):
    recording = Recorder([Vcpu(v, p) for v, p in enumerate(programs)]).run(scripted(script))
    check(recording.log)
    return recording


def test_the_slides_redundant_a_to_d_is_not_logged():
    # vCPU 0 gives X up at 3 (a) and Y at 4 (b); vCPU 1 gets Y at 1 (c) and
    # X at 2 (d). b->c is logged; a->d follows from it and is dropped.
    rec = record([[Write(X, 0, 1), Write(Y, 0, 2), Sync(), Read(X, 0), Sync()],
                  [Read(Y, 0), Read(X, 0)],
                  [Read(X, 0)]],
                 [0, 0, 2, 0, 2, 0, 1, 0, 1, 1])
    assert rec.log == [
        E(0, X, N, W, 1), E(0, Y, N, W, 2),
        E(0, X, W, R, 3), C(0, 3, 2, 1), E(2, X, N, R, 1),
        E(0, Y, W, R, 4), C(0, 4, 1, 1), E(1, Y, N, R, 1),
        E(1, X, N, R, 2)]
    assert rec.required == 3
    assert rec.reads == {0: [1], 1: [2, 1], 2: [1]}


def test_a_running_holder_is_reduced_at_its_next_position():
    rec = record([[Write(X, 0, 1), Read(X, 0), Sync()], [Read(X, 0)]], [0, 1, 0, 0, 1])
    assert rec.log == [E(0, X, N, W, 1), E(0, X, W, R, 2), C(0, 2, 1, 1), E(1, X, N, R, 1)]
    assert rec.streams == {0: [[], [Write(X, 0, 1), Read(X, 0)], [], []],
                           1: [[], [Read(X, 0)], []]}


def test_a_waiting_actor_gives_its_frames_up_where_it_waits():
    # Each faults on the frame the other holds: without giving its own up at
    # its fault position, each would wait for the other for ever.
    rec = record([[Write(X, 0, 1), Write(Y, 0, 2)], [Write(Y, 0, 3), Write(X, 0, 4)]],
                 [0, 1, 0, 1, 0])
    assert rec.log == [
        E(0, X, N, W, 1), E(1, Y, N, W, 1),
        E(1, Y, W, N, 2), E(0, X, W, N, 2), C(0, 2, 1, 2), E(1, X, N, W, 2),
        C(1, 2, 0, 2), E(0, Y, N, W, 2)]
    assert rec.memory == {(X, 0): 4, (Y, 0): 2}


def test_a_second_fault_on_a_frame_waits_for_the_first_to_finish():
    rec = record([[Write(X, 0, 1), Sync()], [Read(X, 0)], [Write(X, 0, 5)]],
                 [0, 1, 2, 0, 1, 1])
    assert rec.log == [
        E(0, X, N, W, 1), E(0, X, W, R, 2), C(0, 2, 1, 1), E(1, X, N, R, 1),
        E(0, X, R, N, 3), E(1, X, R, N, 2), C(1, 2, 2, 1), C(0, 3, 2, 1), E(2, X, N, W, 1)]
    assert rec.reads[1] == [1]


def test_an_access_the_privilege_allows_does_not_fault():
    rec = record([[Write(X, 0, 1), Read(X, 1), Write(X, 1, 2)], [Read(Y, 0)]], [])
    assert rec.log == [E(0, X, N, W, 1), E(1, Y, N, R, 1)]
    assert [len(s) for s in rec.streams[0]] == [0, 3, 0]


def test_a_script_naming_an_actor_that_cannot_run_is_refused():
    with pytest.raises(ValueError, match="names actor 1, which cannot run now"):
        record([[Write(X, 0, 1)], [Write(X, 0, 2)]], [0, 1, 1])
