"""The start state: frame digests, a domain's frames cut into start_frames and gathered back."""

import numpy as np
import pytest

from xenrr.formats import (INVALID_MFN, ContextFormat, Durability, RecordError, StartFrame,
                           StartFrames, TraceReader, VcpuState, scan)
from xenrr.formats import verify as checks
from xenrr.formats.startstate import (START_FRAMES_ENTRIES, frame_digest, gather_start_frames,
                                      start_frames_records)

from tests.formats.traces import crew_events, write_trace


def test_a_frame_digest_is_blake2b_of_8_bytes_read_little_endian():
    # `head -c 4096 /dev/zero | b2sum -l 64` prints e218cb050e9903ac
    assert frame_digest(bytes(4096)) == 0xAC03990E05CB18E2
    assert frame_digest(b"xenrr" * 800 + bytes(96)) == 0xA5138D846B723112


def test_a_domain_is_cut_into_records_of_4096_pfns():
    pfns = 2 * START_FRAMES_ENTRIES + 5
    mfns = [0x100000 + p if p % 7 else INVALID_MFN for p in range(pfns)]
    digests = [0 if m == INVALID_MFN else frame_digest(m.to_bytes(8, "little")) for m in mfns]
    records = start_frames_records(mfns, digests)
    assert [(r.first_pfn, r.count) for r in records] == [
        (0, 4096), (4096, 4096), (8192, 5)]
    assert records[1].entries[3] == StartFrame(mfns[4099], digests[4099])
    assert gather_start_frames(records) == (mfns, digests)


def test_numpy_arrays_become_plain_ints():
    records = start_frames_records(np.array([5, INVALID_MFN], dtype=np.uint64),
                                   np.array([9, 0], dtype=np.uint64))
    assert records == [StartFrames(0, 2, (StartFrame(5, 9), StartFrame(INVALID_MFN, 0)))]
    assert {type(v) for entry in records[0].entries for v in entry} == {int}


def test_mfns_and_digests_must_pair_up():
    with pytest.raises(RecordError, match="^start_frames: 3 mfns but 2 digests$"):
        start_frames_records([1, 2, 3], [4, 5])


def test_a_trace_keeps_the_start_state(tmp_path):
    path = tmp_path / "t.xrr"
    mfns = list(range(0x2000, 0x2000 + 5000))
    digests = [frame_digest(bytes([p % 256]) * 4096) for p in range(5000)]
    contexts = [VcpuState(v, ContextFormat.X86_64_PV, bytes([v]) * 5168) for v in range(2)]
    write_trace(path, start_frames_records(mfns, digests) + contexts + crew_events(10),
                Durability(chunk_bytes=1 << 16))
    with TraceReader(path) as r:
        assert gather_start_frames(r.records(frozenset({StartFrames.TYPE}))) == (mfns, digests)
        assert checks.verify(r).intact
        stats = scan.stats(r)
    assert stats.types[StartFrames.TYPE] == [2, 2 * 8 + 16 * 2 + 16 * 5000]


@pytest.mark.parametrize("runs, message", [
    ([(0, 2), (3, 1)], "start_frames record 1: first_pfn: expected 0x2, got 0x3 "
                       "(pfns 0x2-0x2 missing, or records out of order)"),
    ([(1, 2)], "start_frames record 0: first_pfn: expected 0x0, got 0x1 "
               "(pfns 0x0-0x0 missing, or records out of order)"),
    ([(0, 2), (1, 2)], "start_frames record 1: first_pfn: expected 0x2, got 0x1 "
                       "(pfn 0x1 given before: records overlap or are out of order)"),
    ([(0, 4), (8, 4), (4, 4)], "start_frames record 1: first_pfn: expected 0x4, got 0x8 "
                               "(pfns 0x4-0x7 missing, or records out of order)"),
    ([(0, 4), (4, 4), (0, 4)], "start_frames record 2: first_pfn: expected 0x8, got 0x0 "
                               "(pfn 0x0 given before: records overlap or are out of order)"),
    ([], "start_frames: no entries in the trace: no frames to start replay on"),
    ([(0, 0)], "start_frames: no entries in the trace: no frames to start replay on"),
])
def test_records_that_do_not_cover_the_pfns_once_each_are_refused_in_one_line(runs, message):
    records = [StartFrames(first, count, (StartFrame(1, 2),) * count) for first, count in runs]
    with pytest.raises(RecordError) as e:
        gather_start_frames(records)
    assert str(e.value) == message
