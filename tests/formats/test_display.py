"""The pretty-printer: templates for text, spec names for JSON."""

from xenrr.formats import INVALID_MFN, CrewEvent, Dma, Position, StartFrame, StartFrames
from xenrr.formats.display import describe, to_json

from tests.formats.traces import one_of_each


def test_text():
    assert [str(r) for r in one_of_each()] == [
        "vcpu_state vcpu 0 X86_64_PV context <24 bytes>",
        "crew_event vcpu 1 gfn 0x1234 CR->EW at 10@0xffffffff81000000",
        "constraint vcpu 0 at 11@0xffffffff81000004 waits for vcpu 1 to pass 10@0xffffffff81000000",
        "async_input vcpu 0 UPCALL_PENDING gfn 0x99+0x40 <2 bytes> at 12@0xffffffff81000008",
        "rdtsc vcpu 1 tsc 0x123456789 aux 0 at 13@0xffffffff8100000c",
        "time_update vcpu 0 system_time 5000000 tsc 0x1000 mul 2147483648 shift -1 "
        "at 14@0xffffffff81000010",
        "dma actor 0xffff0000 GRANT_COPY gfn 0x55+0x100 <5 bytes> at 1@0x0",
        "digest vcpu 1 registers 0x0000000000abcdef memory 0x0000000000000123 at 15@0xffffffff81000000",
    ]


START = StartFrames(first_pfn=0x1000, count=2, entries=(StartFrame(0x5432, 0xABC),
                                                        StartFrame(INVALID_MFN, 0)))


def test_start_frames_show_their_pfns_not_every_entry():
    assert str(START) == "start_frames pfns 0x1000+2"
    assert str(START.entries[0]) == "0x5432 0x0000000000000abc"


def test_start_frames_json_lists_every_entry():
    assert to_json(START) == {"type": "start_frames", "first_pfn": 0x1000, "count": 2, "entries": [
        {"mfn": 0x5432, "digest": 0xABC}, {"mfn": INVALID_MFN, "digest": 0}]}


def test_unknown_enum_values_show_their_number():
    assert describe(CrewEvent(0, 5, 2, 0, Position(0, 0))) == "vcpu 0 gfn 0x0 5?->EW at 0@0x0"


def test_json():
    assert to_json(Dma(0xFFFF0001, 2, 8, 2, 0x10, Position(3, 0), b"\x00\xff")) == {
        "type": "dma", "actor": 0xFFFF0001, "kind": "GRANT_MAP", "offset": 8, "length": 2,
        "gfn": 0x10, "position": {"count": 3, "rip": 0, "rcx": 0}, "data": "00ff"}
