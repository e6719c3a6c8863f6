"""The end state: kept in the trace after everything logged, read back, compared."""

import pytest

from xenrr.formats import INVALID_MFN, EndFrames, EndRegisters, RecordError, TraceReader
from xenrr.formats import verify as checks
from xenrr.formats.endstate import (LEFT_OUT, EndState, end_differences, end_from_trace,
                                    left_out_listed, trace_end)
from xenrr.formats.registers import REGISTERS

from tests.formats.traces import crew_events, write_trace

REGS = {name: 0x1000 + i for i, name in enumerate(REGISTERS)}


def state(**change) -> EndState:
    base = dict(mfns=(0x1000, INVALID_MFN, 0x1002, 0x1003), digests=(11, 0, LEFT_OUT, 13),
                registers=(REGS, None), left_out={2: "console ring"})
    return EndState(**{**base, **change})


def test_the_end_goes_into_records_after_everything_and_comes_back(tmp_path):
    path = tmp_path / "t.xrr"
    end = state()
    write_trace(path, [*crew_events(4), *end.records()])
    with TraceReader(path) as reader:
        back = trace_end(reader)
        assert checks.verify(reader).intact
    assert (back.mfns, back.digests) == (end.mfns, end.digests)
    # of rflags only the status flags and DF are kept
    assert back.registers == ({**REGS, "rflags": REGS["rflags"] & 0xCD5}, None)
    assert back.left_out == {2: "left out when recorded"}
    assert end_differences(end, back) == []
    assert back.memory_digest() == end.memory_digest()


def test_a_trace_without_an_end_state_has_none(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(4))
    with TraceReader(path) as reader:
        assert trace_end(reader) is None


def test_left_out_frames_do_not_count_and_are_listed():
    assert state(digests=(11, 0, 99, 13)).memory_digest() == state().memory_digest()
    assert state(digests=(12, 0, LEFT_OUT, 13)).memory_digest() != state().memory_digest()
    assert left_out_listed(state()) == [{"pfn": 2, "mfn": 0x1002, "what": "console ring"}]


def test_each_difference_is_named_with_what_was_recorded():
    found = state(digests=(12, 0, 77, 13),
                  registers=({**REGS, "rax": 5, "rflags": REGS["rflags"] | 0x100}, REGS))
    assert end_differences(state(), found) == [
        "frame contents differ at 1 pfns: pfn 0x0 (mfn 0x1000)",
        f"vCPU 0's rax is 0x5 (recorded {REGS['rax']:#x})",
        "vCPU 1 is up, was down",
    ]


def test_summary_gives_the_digests_replay_prints():
    summary = state().summary()
    assert summary["registers"]["1"] is None
    assert summary["memory"] == f"{state().memory_digest():#018x}"
    assert summary["registers"]["0"].startswith("0x") and len(summary["registers"]["0"]) == 18


def test_end_registers_of_a_vcpu_not_numbered_from_0_are_refused():
    records = state().records()
    with pytest.raises(RecordError, match=r"^end_registers: for vCPUs \[1\], not 0 to 0$"):
        end_from_trace([r for r in records if not (isinstance(r, EndRegisters) and r.vcpu == 0)])


@pytest.mark.parametrize("record, what", [
    (EndRegisters(1, 0, *([0] * 17), 1), "up: 0, yet registers are given: expected zeros"),
    (EndRegisters(0, 2, *([0] * 18)), "up: expected 0 or 1, got 2"),
    (EndRegisters(0, 1, *([0] * 17), 0x202), "rflags: expected only bits of 0xcd5, got 0x202"),
    (EndRegisters(2, 1, *([0] * 18)), "vcpu: expected a vCPU below 2, got 0x2"),
    (EndFrames(1, 0, ()), "first_pfn: expected 0x0, got 0x1 (pfns 0x0-0x0 missing, or records "
                          "out of order)"),
])
def test_the_verifier_checks_the_end_state(tmp_path, record, what):
    path = tmp_path / "t.xrr"
    write_trace(path, [record])
    with TraceReader(path) as reader:
        assert [f.what for f in checks.verify(reader).findings] == [what]
