"""The start state: kept in the trace, read back, compared; and the refusal of frames in use."""

import uuid

import pytest

from xenrr.formats import INVALID_MFN, StartContents, StartFrames, VcpuState, XenFrame
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.rr import Refused
from xenrr.replay import frames
from xenrr.formats.startstate import StartState, frame_digest, start_from_trace
from xenrr.rrdomain import start
from xenrr.rrdomain.start import differences, guest_bytes, register_at

CONTEXT = bytes(ffi.sizeof("struct vcpu_guest_context"))


PAGES = (b"\x01" * 4096, b"\x02" * 4096)


def state(**change) -> StartState:
    base = dict(mfns=(0x1000, INVALID_MFN, 0x1002),
                digests=(frame_digest(PAGES[0]), 0, frame_digest(PAGES[1])),
                contexts=(CONTEXT, b""), shared_info=0x77,
                contents={frame_digest(p): p for p in PAGES})
    return StartState(**{**base, **change})


def test_the_start_goes_into_records_and_comes_back_whole():
    start = state()
    records = start.records()
    assert [type(r) for r in records] == [StartFrames, StartContents, StartContents, XenFrame,
                                         VcpuState, VcpuState]
    assert start_from_trace(records) == start
    assert start.frames() == 2


def test_a_trace_without_start_frames_has_no_start():
    assert start_from_trace([VcpuState(vcpu=0, format=1, context=CONTEXT)]) is None


def test_an_identical_start_has_no_differences():
    assert differences(state(), state()) == []


def test_each_difference_is_named():
    regs = bytearray(CONTEXT)
    regs[ffi.offsetof("struct vcpu_guest_context", "user_regs") +
         ffi.offsetof("struct cpu_user_regs", "rip")] = 1
    found = state(mfns=(0x1000, INVALID_MFN, 0x2002), digests=(12, 0, 13),
                  contexts=(bytes(regs), CONTEXT), shared_info=0x78)
    assert differences(state(), found) == [
        "frames differ at 1 pfns: pfn 0x2: recorded mfn 0x1002, here 0x2002",
        "frame contents differ at 1 pfns: pfn 0x0 (mfn 0x1000)",
        "shared_info is on mfn 0x78, was on 0x77",
        "vCPU 0's registers differ, first in user_regs.rip",
        "vCPU 1 was down when recorded, is up here",
    ]


def test_many_differences_are_counted_past_the_first_few():
    n = 20
    recorded = state(mfns=tuple(range(n)), digests=(0,) * n)
    found = state(mfns=tuple(range(n)), digests=(1,) * n)
    said, = differences(recorded, found)
    assert said.startswith("frame contents differ at 20 pfns: pfn 0x0 (mfn 0x0); ")
    assert said.endswith("pfn 0x7 (mfn 0x7) and 12 more")


def test_register_at_names_the_member_holding_a_byte():
    assert register_at(ffi.offsetof("struct vcpu_guest_context", "ctrlreg") + 3 * 8) \
        == "ctrlreg"
    assert register_at(len(CONTEXT) + 5) == f"byte {len(CONTEXT) + 5}"


class PlanningXen:
    """RrControl as frames.py uses it, with frames in use."""

    def __init__(self, refused):
        self.refused = refused
        self.calls = []

    def __call__(self, privcmd):
        return self

    def plan_frames(self, handle, mfns, shared_info):
        self.calls.append(("plan", list(mfns), shared_info))
        return self.refused

    def drop_plan(self):
        self.calls.append(("drop",))


def test_frames_in_use_are_refused_by_number_and_the_plan_dropped(monkeypatch):
    xen = PlanningXen(Refused([0, 2], True))
    monkeypatch.setattr(frames, "RrControl", xen)
    with pytest.raises(frames.FramesInUseError) as e:
        with frames.planned(None, uuid.uuid4(), (0x1000, INVALID_MFN, 0x1002), 0x77):
            pytest.fail("nothing is built on frames in use")
    assert str(e.value) == ("3 of the recorded machine frames are in use, so the guest cannot "
                            "start where it was recorded: 0x77 (shared_info), 0x1000 (pfn 0x0), "
                            "0x1002 (pfn 0x2)")
    assert xen.calls[0][1][1] == 2**64 - 1 and xen.calls[-1] == ("drop",)


def test_the_plan_is_dropped_once_the_domain_is_built(monkeypatch):
    xen = PlanningXen(Refused([], False))
    monkeypatch.setattr(frames, "RrControl", xen)
    with frames.planned(None, uuid.uuid4(), (0x1000,), 0x77):
        assert xen.calls == [("plan", [0x1000], 0x77)]
    assert xen.calls[-1] == ("drop",)


def test_xens_slots_of_an_l4_page_table_are_not_the_guests():
    frame = bytes(range(256)) * 16
    l4 = guest_bytes(frame, lib.XEN_DOMCTL_PFINFO_L4TAB | 0x80000000)  # pinned
    assert l4[:256 * 8] == frame[:256 * 8] and l4[272 * 8:] == frame[272 * 8:]
    assert l4[256 * 8:272 * 8] == bytes(16 * 8)
    assert guest_bytes(frame, 0x30000000) == frame  # an L3 is all the guest's


class FramesOfXen:
    """A domain's frames by mfn, as rrdomain/start.py reaches them from dom0."""

    def __init__(self, frames, types):
        self.frames, self.types = dict(frames), dict(types)
        self.written = []

    def install(self, monkeypatch):
        monkeypatch.setattr(start, "page_types", lambda _p, _d, mfns: [self.types[m] for m in mfns])
        monkeypatch.setattr(start, "read_frames", lambda _p, _d, mfns: [self.frames[m] for m in mfns])
        monkeypatch.setattr(start, "write_frames", self.write)

    def write(self, _privcmd, _domid, mfns, contents):
        self.written += mfns
        self.frames.update(zip(mfns, contents))


def test_plain_frames_holding_other_leftovers_get_the_recorded_bytes(monkeypatch):
    leftover = b"\xc2" * 4096
    xen = FramesOfXen({0x1000: leftover, 0x1002: leftover},
                      {0x1000: lib.XEN_DOMCTL_PFINFO_NOTAB, 0x1002: lib.XEN_DOMCTL_PFINFO_NOTAB})
    xen.install(monkeypatch)
    recorded = state()
    found = state(digests=(frame_digest(leftover), 0, frame_digest(leftover)),
                  contents={frame_digest(leftover): leftover})
    mended = start.write_contents(None, 7, recorded, found)
    assert xen.written == [0x1000, 0x1002]
    assert xen.frames == {0x1000: PAGES[0], 0x1002: PAGES[1]}
    assert differences(recorded, mended) == []


def test_page_tables_and_moved_frames_are_left_for_the_comparison(monkeypatch):
    leftover = b"\xc2" * 4096
    xen = FramesOfXen({0x1000: leftover, 0x2002: leftover},  # an L1 page table, a plain frame
                      {0x1000: 0x10000000, 0x2002: lib.XEN_DOMCTL_PFINFO_NOTAB})
    xen.install(monkeypatch)
    recorded = state()
    found = state(mfns=(0x1000, INVALID_MFN, 0x2002),
                  digests=(frame_digest(leftover), 0, frame_digest(leftover)))
    assert start.write_contents(None, 7, recorded, found) == found
    assert xen.written == []
    assert differences(recorded, found)[:2] == [
        "frames differ at 1 pfns: pfn 0x2: recorded mfn 0x1002, here 0x2002",
        "frame contents differ at 1 pfns: pfn 0x0 (mfn 0x1000)"]
