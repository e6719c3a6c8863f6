"""The reader: recovery from damage, exactly reported, and nothing but TraceError escaping."""

import os
import random
import re
import signal
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xenrr.errors import TraceError, UsageError
from xenrr.formats import (CrewEvent, Durability, NotATraceError, Rdtsc, RecordError, TraceReader,
                           TraceWriter, UnknownRecordError, scan)
from xenrr.formats import verify as checks
from xenrr.formats.enums import ConfigKind
from xenrr.formats.fileformat import CHUNK_HEADER_STRUCT, FILE_HEADER_STRUCT, file_header
from xenrr.formats.recordtype import RECORD_HEADER
from xenrr.formats.rectypes import REC_OPTIONAL

from tests.formats.traces import (HEADER, Position, assemble, chunk_offsets, crew_events, framed,
                                  write_trace)

EVENTS = crew_events(9)
BLOCKS = [(0, framed(HEADER)), (0, framed(*EVENTS[:3])), (1, framed(*EVENTS[3:6])),
          (0, framed(*EVENTS[6:]))]


def read(path):
    with TraceReader(path) as r:
        return list(r.records()), r.losses, r


def test_a_closed_trace_reads_whole(tmp_path):
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble(BLOCKS))
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS] and losses == [] and r.complete
    assert r.footer.chunks == 4 and r.footer.records == 10 and r.damage() is None


@pytest.mark.parametrize("data, message", [
    (b"", "not a xenrr trace (0 bytes, shorter than a file header)"),
    (b"x" * 30, "not a xenrr trace (expected marker 0xffffffffffffffff and ident 0x58525254, "
                "got 0x7878787878787878 and 0x78787878)"),
    (file_header()[:12] + bytes.fromhex("00000009") + bytes(8),
     "trace format revision 9 is not supported (expected 8)"),
    (file_header()[:12] + bytes.fromhex("00000000") + bytes(8),
     "trace format revision 0 is not supported (expected 8)"),
    (file_header()[:16] + bytes.fromhex("00000001") + bytes(4), "big-endian traces are not supported"),
    (file_header()[:16] + bytes.fromhex("00000002") + bytes(4),
     "unknown options 0x2 or reserved bytes 00000000 set in the file header"),
    (file_header()[:20] + b"\x01\x00\x00\x00", "unknown options 0x0 or reserved bytes 01000000 set"),
])
def test_not_a_trace(tmp_path, data, message):
    path = tmp_path / "t.xrr"
    path.write_bytes(data)
    with pytest.raises(NotATraceError) as e:
        TraceReader(path)
    assert str(e.value).startswith(f"{path}: {message}")


# A trace_header as revision 1 wrote it, byte for byte: bytes 20-23 reserved (zero),
# config untagged. Written out by hand so that no code of today's writer is involved.
REVISION_1_HEADER = bytes.fromhex(
    "01005258" "45000000"                       # trace_header, 69 bytes
    "07000000" "02000000" "01000000" "01000000"  # domid 7, 2 vCPUs, PV, SYNC_ENTRY
    "01000000" "00000000"                       # xenrr_interface 1, reserved
    "00002a36fe9c9717"                          # start_time
    "0500" + b"guest".hex() + "0600" + b"4.17.5".hex()
    + "12000000" + b"name = 'guest'\nx=1".hex() + "000000")
# A crew_event as revisions 1 and 2 wrote it: a position of 16 bytes, without rcx.
OLD_CREW_EVENT = bytes.fromhex(
    "10005258" "20000000"                       # crew_event, 32 bytes
    "01000000" "0102" "0000"                    # vcpu 1, CR->EW, reserved
    "3412000000000000"                          # gfn 0x1234
    "2a00000000000000" "10000081ffffffff")      # position 42@0xffffffff81000010


def revision(data: bytes, version: int) -> bytes:
    """A trace file's bytes with the file header's version set."""
    return data[:12] + version.to_bytes(4, "big") + data[16:]


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7])
def test_a_trace_older_than_replay_needs_is_refused_in_one_line(tmp_path, version):
    """Revision 6 traces lack the TSC's values, revision 5 crew_events have no register digest, revision 4 traces no start_contents,
    revision 3 no start_frames; revisions 1 and 2 had no rcx in positions either."""
    path = tmp_path / "old.xrr"
    header = REVISION_1_HEADER if version == 1 else framed(HEADER)
    event = OLD_CREW_EVENT if version < 3 else framed(EVENTS[0])
    path.write_bytes(revision(assemble([(0, header), (0, event)]), version))
    with pytest.raises(NotATraceError) as e:
        TraceReader(path)
    assert str(e.value) == (f"{path}: trace format revision {version} predates what replay "
                            "needs (revision 8): the trace must be recorded again")


def test_positions_from_before_rcx_would_read_wrong(tmp_path):
    """Why revisions 1 and 2 are refused rather than read: their positions are 8 bytes short."""
    path = tmp_path / "old.xrr"
    path.write_bytes(assemble([(0, framed(HEADER)), (0, OLD_CREW_EVENT)]))
    with TraceReader(path) as r, pytest.raises(RecordError, match="expected a body of 48 bytes"):
        list(r.records())


@pytest.mark.parametrize("kind", list(ConfigKind), ids=lambda k: k.name)
def test_every_config_kind_reads_back(tmp_path, kind):
    path = tmp_path / "t.xrr"
    header = HEADER._replace(config_kind=kind, config=f"the {kind.name} text\n")
    write_trace(path, EVENTS[:2], header=header)
    with TraceReader(path) as r:
        assert r.version == 8
        assert (r.header.config_kind, r.header.config) == (kind, f"the {kind.name} text\n")
        assert next(r.records()) == header


def test_a_missing_trace_points_at_its_partial_file(tmp_path):
    (tmp_path / "t.xrr.partial").write_bytes(b"")
    with pytest.raises(TraceError, match=r"cannot read .*t.xrr: No such file or directory "
                                         r"\(t.xrr.partial exists: the recorder did not close"):
        TraceReader(tmp_path / "t.xrr")


def test_a_corrupt_chunk_is_skipped_and_reported(tmp_path):
    data = bytearray(assemble(BLOCKS))
    offsets = chunk_offsets(data)
    data[offsets[2] + 40] ^= 0x01          # a bit in chunk 2's block
    path = tmp_path / "t.xrr"
    path.write_bytes(data)
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS[:3], *EVENTS[6:]]
    assert [(x.start, x.end, x.after, x.before) for x in losses] == [(offsets[2], offsets[3], 1, 3)]
    assert losses[0].reason.startswith("chunk 2: checksum expected 0x")
    assert str(losses[0]).endswith("; chunk 2 was lost")
    assert str(r.damage()) == f"{path}: damaged: {losses[0]}"


def test_a_corrupt_chunk_header_resynchronises_on_the_next_magic(tmp_path):
    data = bytearray(assemble(BLOCKS))
    offsets = chunk_offsets(data)
    data[offsets[1] + 24:offsets[1] + 28] = b"\xff\xff\xff\x7f"   # chunk 1's compressed length
    path = tmp_path / "t.xrr"
    path.write_bytes(data)
    records, losses, _ = read(path)
    assert records == [HEADER, *EVENTS[3:]]
    assert [(x.start, x.end, x.reason) for x in losses] == [
        (offsets[1], offsets[2], "chunk 1: implausible lengths (raw 168, compressed 2147483647)")]


def test_a_chunk_missing_cleanly_is_a_sequence_gap(tmp_path):
    data = assemble(BLOCKS, close=False)
    offsets = chunk_offsets(data)
    path = tmp_path / "t.xrr"
    path.write_bytes(data[:offsets[1]] + data[offsets[2]:])
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS[3:]]
    assert [str(x) for x in losses] == [f"at {offsets[1]:#x}: chunks missing; chunk 1 was lost"]
    assert not r.complete


def test_garbage_between_chunks_loses_no_chunk(tmp_path):
    data = assemble(BLOCKS, close=False)
    offsets = chunk_offsets(data)
    path = tmp_path / "t.xrr"
    path.write_bytes(data[:offsets[2]] + b"XRRchunk garbage" + data[offsets[2]:])
    records, losses, _ = read(path)
    assert records == [HEADER, *EVENTS]
    assert [(x.start, x.end, x.chunks) for x in losses] == [
        (offsets[2], offsets[2] + 16, "no whole chunk was")]
    assert losses[0].reason.startswith("chunk 7306915995885594400: implausible lengths")


def test_a_truncated_trace_recovers_every_complete_chunk(tmp_path):
    data = assemble(BLOCKS)
    offsets = chunk_offsets(data)
    path = tmp_path / "t.xrr"
    path.write_bytes(data[:offsets[3] + 10])
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS[:6]]
    assert [str(x) for x in losses] == [
        f"bytes {offsets[3]:#x}-{offsets[3] + 10:#x} (10 bytes): incomplete chunk header "
        "(10 of 32 bytes); chunks from 3 on, if any, were lost"]
    assert str(r.damage()).endswith("; not closed: no footer (the recorder did not finish)")


def test_lost_chunk_zero_loses_the_header(tmp_path):
    data = bytearray(assemble(BLOCKS))
    data[FILE_HEADER_STRUCT.size] ^= 0xFF
    path = tmp_path / "t.xrr"
    path.write_bytes(data)
    with TraceReader(path) as r:
        assert r.header is None and list(r.records()) == EVENTS and r.losses[0].chunks == "chunk 0 was"


@pytest.mark.parametrize("where, reason, regions", [
    (-30, "footer checksum expected", 1),                       # in the index
    (-20, "trailer points to 0x1000001d9, where no footer is", 2),  # trailer's footer_offset
    (-10, "trailer reserved bytes expected zero, got 00000100", 2),
])
def test_a_damaged_footer_leaves_the_chunks_readable(tmp_path, where, reason, regions):
    data = bytearray(assemble(BLOCKS))
    data[where] ^= 0x01
    path = tmp_path / "t.xrr"
    path.write_bytes(data)
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS] and not r.complete
    assert reason in losses[0].reason and losses[0].chunks == "no whole chunk was"
    # a trailer that cannot be trusted leaves the footer's bytes to the chunk walk
    assert len(losses) == regions
    assert "not closed" not in str(r.damage())


def test_killed_while_closing(tmp_path):
    data = assemble(BLOCKS)
    offsets = chunk_offsets(data)
    end = offsets[3] + CHUNK_HEADER_STRUCT.size + CHUNK_HEADER_STRUCT.unpack_from(data, offsets[3])[4]
    path = tmp_path / "t.xrr.partial"
    path.write_bytes(data[:end + 20])
    records, losses, r = read(path)
    assert records == [HEADER, *EVENTS]
    assert [x.reason for x in losses] == [
        "a footer where a chunk was expected (the writer stopped while closing, or the "
        "trailer is damaged)"]


def test_closed_but_not_renamed_is_complete(tmp_path):
    path = tmp_path / "t.xrr.partial"
    path.write_bytes(assemble(BLOCKS))
    records, losses, r = read(path)
    assert r.complete and not losses and len(records) == 10


def test_unknown_optional_records_are_skipped_unknown_mandatory_are_errors(tmp_path):
    optional = RECORD_HEADER.pack(REC_OPTIONAL | 0x5852_7777, 3) + b"abc" + bytes(5)
    mandatory = RECORD_HEADER.pack(0x5852_7777, 0)
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER) + optional + framed(EVENTS[0]))]))
    assert read(path)[0] == [HEADER, EVENTS[0]]
    path.write_bytes(assemble([(0, framed(HEADER)), (0, mandatory)]))
    with TraceReader(path) as r, pytest.raises(UnknownRecordError,
                                               match=r"chunk 1 at 0x.*: record at \+0x0: unknown "
                                                     r"mandatory record type 0x58527777"):
        list(r.records())


@pytest.mark.parametrize("block, message", [
    (RECORD_HEADER.pack(0x1234, 0), "record at +0x0: 0x00001234 is not a record type"),
    (RECORD_HEADER.pack(CrewEvent.TYPE, 48) + bytes(40),
     "record at +0x0 (48 bytes) runs past the end of the block (48 bytes)"),
    (framed(EVENTS[0]) + b"\x10\x00", "record header at +0x38 cut by the end of the block"),
    (RECORD_HEADER.pack(CrewEvent.TYPE, 32) + bytes(32),
     "crew_event: expected a body of 48 bytes, got 32"),
])
def test_malformed_framing_in_a_sound_chunk_is_a_record_error(tmp_path, block, message):
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER)), (0, block)], close=False))
    with TraceReader(path) as r, pytest.raises(RecordError, match=re.escape(f"chunk 1 at 0x87: {message}")):
        list(r.records())


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "t.xrr"
    write_trace(path, crew_events(300), Durability(chunk_bytes=512), streams=2)
    return path.read_bytes()


def exercise(path) -> None:
    """Everything a damaged file can go through; only TraceError may come out."""
    try:
        with TraceReader(path) as r:
            _ = r.header
            for _ in r.records():
                pass
            r.damage()
            checks.verify(r)
            scan.stats(r)
            for _ in scan.arrays(r, CrewEvent):
                pass
    except TraceError:
        pass


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(cut=st.integers(0, 10_000))
def test_truncation_raises_only_trace_errors(tmp_path, sample, cut):
    path = tmp_path / "cut.xrr"
    path.write_bytes(sample[:cut % (len(sample) + 1)])
    exercise(path)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), min_size=1, max_size=6))
def test_bit_flips_raise_only_trace_errors(tmp_path, sample, flips):
    data = bytearray(sample)
    for where, bit in flips:
        data[where % len(data)] ^= 1 << bit
    path = tmp_path / "flip.xrr"
    path.write_bytes(data)
    exercise(path)


@FUZZ
@given(garbage=st.binary(max_size=4096), keep_header=st.booleans())
def test_garbage_raises_only_trace_errors(tmp_path, garbage, keep_header):
    path = tmp_path / "garbage.xrr"
    path.write_bytes((file_header() if keep_header else b"") + garbage)
    exercise(path)


def passes(path, workers: int):
    """What one pass over a file gives with that many prefetch workers: chunks and losses, or the error."""
    try:
        with TraceReader(path, workers=workers) as r:
            chunks = [(c.sequence, c.stream, c.offset, c.size, c.data) for c in r.chunks()]
            return chunks, r.losses
    except TraceError as e:
        return str(e)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), min_size=1, max_size=6),
       cut=st.integers(0, 1 << 20))
def test_prefetching_reads_what_the_serial_reader_reads(tmp_path, sample, flips, cut):
    data = bytearray(sample[:len(sample) - cut % 200])
    for where, bit in flips:
        data[where % len(data)] ^= 1 << bit
    path = tmp_path / "flip.xrr"
    path.write_bytes(data)
    assert passes(path, 2) == passes(path, 0)


@pytest.mark.parametrize("workers", [-1, 1.5, "2"])
def test_workers_is_a_count_of_threads(tmp_path, sample, workers):
    path = tmp_path / "t.xrr"
    path.write_bytes(sample)
    with pytest.raises(UsageError, match="workers is a number of threads, 0 or more"):
        TraceReader(path, workers=workers)


def test_closing_the_reader_mid_pass_stops_its_workers(tmp_path, sample):
    path = tmp_path / "t.xrr"
    path.write_bytes(sample)
    with TraceReader(path, workers=2) as r:
        chunks = r.chunks()
        next(chunks)
    assert not [t for t in threading.enumerate() if t.name.startswith("xenrr-read")]
    with pytest.raises(TraceError, match="read after close"):
        next(chunks)


def _write_until_killed(path, pipe, rng: random.Random) -> None:
    """The child: write numbered records, reporting each chunk once write(2) returned."""
    class Reporting(TraceWriter):
        emitted = 0

        def _emit(self, stream, raw, records):
            super()._emit(stream, raw, records)
            self.emitted += records
            os.write(pipe, f"{self.emitted}\n".encode())

    durability = Durability(chunk_bytes=rng.choice([256, 1024, 8192]), fsync_bytes=None,
                            fsync_seconds=None)
    with Reporting(path, HEADER, durability) as w:
        for i in range(rng.randrange(1, 20_000)):
            w.write(Rdtsc(vcpu=i % 2, aux=0, tsc=i, position=Position(i, 0)), stream=i % 3)


def test_a_writer_killed_at_random_moments(tmp_path):
    """SIGKILL a writer 50 times: every written chunk is recovered and verify says what was lost."""
    rng = random.Random(4)
    outcomes = set()
    for attempt in range(50):
        path = tmp_path / f"k{attempt}.xrr"
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child dies by SIGKILL, or exits here once it has closed the trace
            try:
                os.close(read_end)
                _write_until_killed(path, write_end, random.Random(attempt))
            finally:
                os._exit(0)
        os.close(write_end)
        time.sleep(rng.uniform(0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as pipe:
            reported = [int(line) for line in pipe if line.endswith("\n")]
        outcomes.add(_check_recovery(path, reported[-1] if reported else 0))
    assert "partial" in outcomes  # the kills did land while the writer was writing


def _check_recovery(path, emitted: int) -> str:
    """Check what a killed writer left; say which on-disk state it was."""
    partial = path.with_name(path.name + ".partial")
    if path.exists():
        with TraceReader(path) as r:
            assert r.complete and checks.verify(r).intact
        return "closed"
    if not partial.exists():
        return "not created"
    if partial.stat().st_size < FILE_HEADER_STRUCT.size:
        with pytest.raises(NotATraceError):
            TraceReader(partial)
        return "empty"
    with TraceReader(partial) as r:
        records = list(r.records())
        losses = r.losses
        report = checks.verify(r)
        if r.complete:  # killed between the final fsync and the rename
            assert report.intact
            return "closed, not renamed"
    numbered = [x.tsc for x in records if isinstance(x, Rdtsc)]
    for stream in range(3):  # each stream: a gapless prefix of what was written to it
        mine = [tsc for tsc in numbered if tsc % 3 == stream]
        assert mine == list(range(stream, 3 * len(mine), 3))
    assert len(records) >= emitted  # every chunk whose write(2) returned was recovered
    assert len(losses) <= 1 and all(x.end == partial.stat().st_size for x in losses)
    assert not report.intact
    assert "expected a footer, got none: the trace was not closed" in [f.what for f in report.findings]
    return "partial"
