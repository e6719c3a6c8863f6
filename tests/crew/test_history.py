"""shadow.trace: model histories through real trace files (TraceWriter, TraceReader)."""

import random

import pytest

from tests.crew.traces import (DEV, PINGPONG, E, N, R, W, X, Y, unclose, write_records,
                                 write_trace)
from xenrr.crew.sim.devices import Device
from xenrr.formats import (Constraint, CrewEvent, Digest, Dma, DmaKind, Durability, Position,
                           Rdtsc, TraceDamaged, TraceReader)
from xenrr.crew.checker import check
from xenrr.crew.errors import IllegalTransition, PositionError
from xenrr.crew.sim.program import Read, Sync, Write
from xenrr.crew.sim.recording import Recorder, Vcpu
from xenrr.crew.history import check_trace, read_history, records


def read(path, extents=None):
    with TraceReader(path) as reader:
        return list(read_history(reader, extents))


def test_a_recorded_history_reads_back_and_passes(tmp_path):
    rng = random.Random(5)
    programs = [[Write(X, 0, 1), Read(Y, 1), Sync(), Write(Y, 1, 2), Read(X, 0)],
                [Read(X, 0), Write(X, 1, 3), Read(Y, 1)],
                [Write(Y, 0, 4), Read(X, 1)]]
    rec = Recorder([Vcpu(v, p) for v, p in enumerate(programs)]
                   + [Device(0, [[Write(X, 1, 5), Read(Y, 0)]])]).run(rng.choice)
    trace = write_trace(tmp_path / "t.xrr", rec.log, rip=0xFFFFFFFF81000000)
    assert read(trace) == rec.log
    assert check_trace(trace) == check(rec.log)


def test_records_carrying_positions_extend_their_actors_span(tmp_path):
    extra = [Rdtsc(vcpu=0, aux=0, tsc=1, position=Position(9, 0)),
             Dma(actor=DEV, kind=DmaKind.GRANT_COPY, offset=0, length=2, gfn=X,
                 position=Position(5, 0), data=b"hi"),
             Digest(vcpu=1, flags=0, reg_digest=0, mem_digest=0, position=Position(0, 0))]
    trace = write_trace(tmp_path / "t.xrr", PINGPONG, extra)
    extents: dict[int, list[int]] = {}
    assert read(trace, extents) == PINGPONG
    assert extents == {0: [1, 9], 1: [0, 3], DEV: [0, 5]}


@pytest.mark.parametrize(("trace_records", "error", "message"), [
    ([CrewEvent(vcpu=1, old_state=0, new_state=2, gfn=X, position=Position(4, 0x1000)),
      CrewEvent(vcpu=1, old_state=2, new_state=0, gfn=X, position=Position(4, 0x2000))],
     PositionError, "vCPU 1, frame 0x10, position 4: rip 0x2000, but an earlier record puts "
                    "position 4 at rip 0x1000"),
    ([*records(PINGPONG[:2]),
      Constraint(vcpu=1, after_vcpu=0, position=Position(1, 0), after_position=Position(2, 0x10))],
     PositionError, "a constraint naming vCPU 0 at position 2: rip 0x10, but an earlier record "
                    "puts position 2 at rip 0x0"),
    ([CrewEvent(vcpu=0, old_state=0, new_state=7, gfn=Y, position=Position(1, 0))],
     IllegalTransition, "vCPU 0, frame 0x11, position 1: CREW state 0->7 is not one of "
                        "0 (NONE), 1 (CR), 2 (EW)"),
])
def test_records_the_model_cannot_take(tmp_path, trace_records, error, message):
    # One position is one instruction, so one rip; CREW states are the three of the spec.
    trace = write_records(tmp_path / "t.xrr", trace_records)
    with pytest.raises(error) as e:
        read(trace)
    assert str(e.value) == message


def test_an_illegal_trace_fails_the_check(tmp_path):
    trace = write_trace(tmp_path / "t.xrr", [E(0, X, N, W, 1), E(1, X, N, R, 1)])
    with pytest.raises(IllegalTransition):
        check_trace(trace)


def test_an_unclosed_trace_cannot_pass(tmp_path):
    trace = unclose(write_trace(tmp_path / "t.xrr", PINGPONG))
    with pytest.raises(TraceDamaged) as e:
        check_trace(trace)
    assert str(e.value) == f"{trace}: not closed: no footer (the recorder did not finish)"


def test_a_history_broken_by_damage_is_blamed_on_the_damage(tmp_path):
    trace = write_records(tmp_path / "t.xrr", records(PINGPONG), Durability(chunk_bytes=64))
    with TraceReader(trace) as r:
        reduction = list(r.chunks())[2]  # chunk 0 holds the header, 1 the first event
    data = bytearray(trace.read_bytes())
    data[reduction.end - 1] ^= 0xFF
    trace.write_bytes(bytes(data))
    with pytest.raises(TraceDamaged) as e:
        check_trace(trace)
    message = str(e.value)
    assert message.startswith(f"{trace}: damaged: ")
    assert message.endswith("; so the CREW history is incomplete: vCPU 0 passes 2 before "
                            "vCPU 1 passes 1: vCPU 0 has not reached position 2")
