"""The start state: frame digests, a domain's frames cut into start_frames and gathered back."""

import numpy as np
import pytest

from xenrr.formats import (INVALID_MFN, Durability, RecordError, StartContents, StartFrame,
                           StartFrames, TraceReader, scan)
from xenrr.formats import verify as checks
from xenrr.formats.startstate import (START_FRAMES_ENTRIES, StartState, frame_digest,
                                      gather_start_frames, start_frames_records, start_from_trace,
                                      trace_start)

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
    pages = [bytes([p % 256]) * 4096 for p in range(5000)]
    digests = tuple(map(frame_digest, pages))
    start = StartState(mfns=tuple(range(0x2000, 0x2000 + 5000)), digests=digests,
                       contexts=(bytes([1]) * 5168, b""), shared_info=0x77,
                       contents=dict(zip(digests, pages)))
    write_trace(path, start.records() + crew_events(10), Durability(chunk_bytes=1 << 16))
    with TraceReader(path) as r:
        assert gather_start_frames(r.records(frozenset({StartFrames.TYPE}))) == (
            list(start.mfns), list(digests))
        assert trace_start(r) == start
        assert checks.verify(r).intact
        stats = scan.stats(r)
    assert stats.types[StartFrames.TYPE] == [2, 2 * 8 + 16 * 2 + 16 * 5000]
    # the 256 distinct frames once each, not 5000
    assert stats.types[StartContents.TYPE] == [256, 256 * (8 + 8 + 4096)]


def test_a_start_without_the_bytes_of_a_digest_is_refused():
    page = b"\x05" * 4096
    start = StartState(mfns=(0x10, 0x11), digests=(frame_digest(page), frame_digest(bytes(4096))),
                       contexts=(b"",), shared_info=0x77,
                       contents={frame_digest(page): page, frame_digest(bytes(4096)): bytes(4096)})
    records = [r for r in start.records()
               if not (isinstance(r, StartContents) and r.data == bytes(4096))]
    with pytest.raises(RecordError, match="^start_contents: none for 1 of the start frames' "
                                          "digests, first 0xac03990e05cb18e2 \\(pfn 0x1\\): "
                                          "replay could not give the guest those bytes$"):
        start_from_trace(records)


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
