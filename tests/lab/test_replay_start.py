"""Replay's start in the patched hypervisor: the domain rebuilt on its recorded frames, proven identical.

A micro-guest is recorded; `xenrr replay` builds its domain again from the
same config on the machine frames the trace names (frame plans, patch
0011) and compares every frame's bytes and every vCPU's registers with the
trace's start state before the guest runs, once the frames the builder did
not write hold their recorded bytes again. A trace whose start was changed
where replay cannot write is refused naming the pfn; frames a live domain owns are refused by number;
malformed plan requests get their errno, and Xen stays healthy.
"""

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json
from xenrr.formats import (INVALID_MFN, EndOfTrace, PositionMode, StartContents, StartFrames,
                           TraceHeader, TraceReader, TraceWriter, VcpuState, XenFrame,
                           XenFrameKind)
from xenrr.formats.startstate import frame_digest, gather_start_frames, start_frames_records
from xenrr.hypercalls.abi import ffi
from xenrr.lab import micro
from xenrr.lab.recording import PRESERVE, record_guest, trace_path

pytestmark = pytest.mark.lab

MEMORY_PAGES = micro.xlconfig.MEMORY_MB * 256
CR3 = ffi.offsetof("struct vcpu_guest_context", "ctrlreg") + 3 * 8


@pytest.fixture(scope="module")
def race(lab):
    """The race micro-guest, 2 vCPUs, recorded from its first instruction."""
    cfg = micro.config("race", vcpus=2)
    rec = record_guest(lab, cfg, "replay-start-race", timeout=300, guest=cfg.stem)
    assert rec.result.returncode == 0, rec.result.stderr + rec.console
    return cfg, rec.trace


def start_records(trace):
    with TraceReader(trace) as reader:
        records = list(reader.records())
    return records


def replay(lab, cfg, trace, *flags, overrides=()):
    return lab.run(["xenrr", "replay", *flags, str(cfg), str(lab.share.in_dom0(trace)),
                    *PRESERVE, *overrides], timeout=300)


def domain_exists(lab, name) -> bool:
    return lab.run(["xl", "domid", name]).returncode == 0


def test_the_trace_holds_every_frame_and_every_vcpus_registers_before_the_first_event(race):
    _, trace = race
    records = start_records(trace)
    assert isinstance(records[0], TraceHeader)
    leading = [r for r in records[1:]
               if isinstance(r, (StartFrames, StartContents, XenFrame, VcpuState))]
    assert records[1:len(leading) + 1] == leading, "the start state leads the trace"
    xen_frames = [r for r in leading if isinstance(r, XenFrame)]
    assert [(f.kind, f.index) for f in xen_frames] == [(XenFrameKind.SHARED_INFO, 0)]
    mfns, digests = gather_start_frames(r for r in leading if isinstance(r, StartFrames))
    present = [m for m in mfns if m != INVALID_MFN]
    assert len(present) == MEMORY_PAGES and len(set(present)) == MEMORY_PAGES
    assert len(set(digests)) > 10, "frames of different contents digest differently"
    contents = {r.digest: r.data for r in leading if isinstance(r, StartContents)}
    assert set(contents) == set(digests), "the bytes of every frame, once per digest"
    contexts = [r for r in leading if isinstance(r, VcpuState)]
    assert [c.vcpu for c in contexts] == [0, 1]
    # vCPU 0 starts at the kernel's entry; the guest brings vCPU 1 up itself.
    assert [len(c.context) for c in contexts] == [5168, 0]


def test_replay_builds_the_domain_on_the_recorded_frames_and_its_start_is_identical(lab, race):
    cfg, trace = race
    result = replay(lab, cfg, trace, "-p")
    try:
        assert result.returncode == 0, result.stderr
        assert f"starts as recorded: {MEMORY_PAGES} frames on the recorded machine frames, " \
               "the registers of its 2 vCPUs" in result.stderr
        frames = dom0_json(lab, "frame_plan.py", "--frames-of", cfg.stem)
        mfns, _ = gather_start_frames(r for r in start_records(trace)
                                      if isinstance(r, StartFrames))
        assert frames == list(mfns)
        state = lab.run(["xl", "list", cfg.stem]).stdout.splitlines()[1].split()[4]
        assert "p" in state, f"left paused at its start: {state}"
    finally:
        lab.run(["xl", "destroy", cfg.stem])
    assert_xen_healthy(lab)


def test_a_trace_by_synchronous_entries_is_refused_in_one_line_before_a_domain_is_built(
        lab, race):
    cfg, trace = race
    records = start_records(trace)
    by_entries = trace_path(lab, "replay-start-sync-entry")
    with TraceWriter(by_entries, header=records[0]._replace(
            position_mode=PositionMode.SYNC_ENTRY)) as writer:
        for r in records[1:]:
            if not isinstance(r, EndOfTrace):
                writer.write(r)
    result = replay(lab, cfg, by_entries)
    assert result.returncode == 1
    assert result.stderr.startswith("xenrr: ") and result.stderr.count("\n") == 1, result.stderr
    assert "the trace counts positions by sync-entry" in result.stderr
    assert not domain_exists(lab, cfg.stem)


def with_start_bytes(lab, name, records, pfn, data):
    """A copy of the trace whose start has `data` at `pfn` (digest and bytes alike)."""
    mfns, digests = gather_start_frames(r for r in records if isinstance(r, StartFrames))
    digests[pfn] = frame_digest(data)
    tampered = trace_path(lab, name)
    with TraceWriter(tampered, header=records[0]) as writer:
        for r in start_frames_records(mfns, digests):
            writer.write(r)
        writer.write(StartContents(digest=digests[pfn], data=data))
        for r in records[1:]:
            if not isinstance(r, (StartFrames, EndOfTrace)):
                writer.write(r)
    return tampered, mfns


def test_a_frame_holding_other_leftovers_gets_the_recorded_bytes_before_the_guest_runs(lab, race):
    """The builder does not write every frame: what one held before is part of the start."""
    cfg, trace = race
    records = start_records(trace)
    pfn = MEMORY_PAGES - 1   # past everything the builder and the guest put in memory
    data = b"xenrr start bytes " * 227 + bytes(10)
    tampered, _ = with_start_bytes(lab, "replay-start-leftovers", records, pfn, data)
    result = replay(lab, cfg, tampered, "-p")
    try:
        assert result.returncode == 0, result.stderr
        assert "starts as recorded" in result.stderr
        assert dom0_json(lab, "frame_plan.py", "--bytes-of", cfg.stem, hex(pfn)) == data.hex()
    finally:
        lab.run(["xl", "destroy", cfg.stem])
    assert_xen_healthy(lab)


def test_a_start_that_differs_from_the_trace_is_refused_naming_the_pfn(lab, race):
    """A page table's bytes are the builder's: replay cannot write them, only compare."""
    cfg, trace = race
    records = start_records(trace)
    context = next(r for r in records if isinstance(r, VcpuState) and r.vcpu == 0).context
    cr3 = int.from_bytes(context[CR3:CR3 + 8], "little")
    mfns, _ = gather_start_frames(r for r in records if isinstance(r, StartFrames))
    pfn = mfns.index(cr3 >> 12)   # vCPU 0's L4 page table
    tampered, mfns = with_start_bytes(lab, "replay-start-tampered", records, pfn, b"\x01" * 4096)
    result = replay(lab, cfg, tampered, "-p")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"frame contents differ at 1 pfns: pfn {pfn:#x} (mfn {mfns[pfn]:#x})" in result.stderr
    assert not domain_exists(lab, cfg.stem)
    assert_xen_healthy(lab)


def test_frames_a_live_domain_owns_are_refused_and_bad_plans_get_their_errno(lab):
    cfg = micro.config("private", vcpus=1)
    out = dom0_json(lab, "frame_plan.py", cfg)
    assert out["frames"] == MEMORY_PAGES
    assert out["busy"] and out["still_owned"], "a live domain's frames are all busy, and kept"
    assert out["freed frames busy"] == 0, "a destroyed domain's frames can be planned at once"
    assert out["beyond memory busy"]
    assert out["no plan left by refusals"], "a refused new plan leaves none behind"
    assert out["errors"] == {
        "get: flags set": "EINVAL",
        "plan: new and drop": "EINVAL",
        "plan: unknown flag": "EINVAL",
        "plan: no plan to add to": "ENOENT",
        "plan: zero pfns": "EINVAL",
        "plan: huge": "EINVAL",
        "plan: past its end": "EINVAL",
        "plan: batch too big": "EINVAL",
        "plan: busy bit given": "EINVAL",
        "plan: the null handle": "EINVAL",
        "plan: pad": "EINVAL",
        "plan: a pfn planned twice": "EEXIST",
    }
    assert_xen_healthy(lab)


def test_replay_refuses_frames_in_use_by_number(lab, race):
    """The recorded frames held by a first replayed domain, left paused: a second is refused."""
    cfg, trace = race
    first = replay(lab, cfg, trace, "-p")
    try:
        assert first.returncode == 0, first.stderr
        second = replay(lab, cfg, trace, "-p", overrides=('name="replay-second"',))
        assert second.returncode == 1
        assert second.stderr.count("\n") == 1, second.stderr
        # Every pfn's frame, and the shared_info's, named first.
        assert f"{MEMORY_PAGES + 1} of the recorded machine frames are in use" in second.stderr
        assert "(shared_info), " in second.stderr and "(pfn 0x0)" in second.stderr
        assert f"and {MEMORY_PAGES + 1 - 8} more" in second.stderr
        assert not domain_exists(lab, "replay-second")
    finally:
        lab.run(["xl", "destroy", cfg.stem])
    assert_xen_healthy(lab)
