"""The verifier: every check says what it expected and what it got, and where."""

import pytest

from xenrr.formats import (BY_TYPE, INVALID_MFN, AsyncInput, Constraint, CrewEvent, Digest, Dma,
                           Durability, EndOfTrace, Position, Rdtsc, RecordError, StartFrame,
                           StartContents, StartFrames, TimeUpdate, TraceReader, VcpuState,
                           XenFrame)
from xenrr.formats import verify as checks
from xenrr.formats.enums import ConfigKind, EndReason, PositionMode
from xenrr.formats.fileformat import INDEX_ENTRY_STRUCT, TRAILER_STRUCT, encode_footer
from xenrr.formats.recordtype import RECORD_HEADER
from xenrr.formats.startstate import frame_digest, gather_start_frames

from tests.formats.traces import (HEADER, assemble, chunk_offsets, crew_events, framed, one_of_each,
                                  write_trace)

P = Position(1, 0x1000)


def report_of(path):
    with TraceReader(path) as r:
        return checks.verify(r)


def test_every_record_type_has_a_verifier():
    assert set(checks.VERIFIERS) == set(BY_TYPE)
    assert all(f.__doc__ and f.__name__ == f"verify_{BY_TYPE[t].NAME}"
               for t, f in checks.VERIFIERS.items())


def test_an_intact_trace(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, one_of_each() * 4, Durability(chunk_bytes=300), streams=3)
    report = report_of(path)
    assert report.intact and report.findings == []
    with TraceReader(path) as r:
        assert (report.chunks, report.records) == (r.footer.chunks, r.footer.records)


@pytest.mark.parametrize("record, what", [
    (VcpuState(2, 1, b"x"), "vcpu: expected a vCPU below 2, got 0x2"),
    (XenFrame(1, 0, INVALID_MFN), "mfn: expected the frame of SHARED_INFO, got INVALID_MFN"),
    (XenFrame(5, 0, 0x1000), "kind: expected one of SHARED_INFO, got 5"),
    (VcpuState(0, 9, b"x"), "format: expected one of X86_64_PV, HVM_SAVE_CPU, got 9"),
    (CrewEvent(5, 1, 2, 0, P), "vcpu: expected a vCPU below 2 or a device actor, got 0x5"),
    (CrewEvent(0, 1, 1, 0, P), "new_state: expected a change from 1, got the same state"),
    (CrewEvent(0, 7, 1, 0, P), "old_state: expected one of NONE, CR, EW, got 7"),
    (Constraint(1, 1, P, P), "after_vcpu: expected an actor other than 1, got the same one"),
    (Constraint(0, 3, P, P), "after_vcpu: expected a vCPU below 2 or a device actor, got 0x3"),
    (AsyncInput(0, 1, 2, 0, 4095, P, b"ab"), "offset + length: expected at most 4096, got 4097"),
    (AsyncInput(0xFFFF0000, 1, 0, 0, 0, P, b""),
     "vcpu: expected a vCPU below 2, got 0xffff0000"),
    (Rdtsc(2, 0, 0, P), "vcpu: expected a vCPU below 2, got 0x2"),
    (TimeUpdate(0, 3, 0, 0, 0, 0, 0, P), "version: expected an even pvclock version, got 3"),
    (Dma(1, 1, 0, 0, 0, Position(0, 0), b""), "actor: expected a device actor id from 0xffff0000, got 0x1"),
    (Dma(0xFFFF0000, 1, 0, 0, 0, P, b""), "position.rip: expected 0 for a device, got 0x1000"),
    (Dma(0xFFFF0000, 1, 4000, 200, 0, Position(0, 0), bytes(200)),
     "offset + length: expected at most 4096, got 4200"),
    (Digest(0, 2, 0, 0, P), "flags: expected only 0x1, got 0x2"),
    (Digest(0, 0, 0, 5, P), "mem_digest: expected 0 without DIGEST_MEMORY, got 0x5"),
    (HEADER, "expected the trace header as record 0, got it as record 1"),
    (StartFrames(1, 1, (StartFrame(5, 6),)),
     "first_pfn: expected 0x0, got 0x1 (pfns 0x0-0x0 missing, or records out of order)"),
    (StartFrames(0, 2, (StartFrame(5, 6), StartFrame(INVALID_MFN, 7))),
     "entries: pfn 0x1 has no frame: expected digest 0, got 0x7"),
])
def test_record_verifiers(tmp_path, record, what):
    path = tmp_path / "t.xrr"
    write_trace(path, [record])
    report = report_of(path)
    assert [f.what for f in report.findings] == [what]
    assert report.findings[0].where.startswith("chunk 1 (stream 0) at 0x")
    assert report.findings[0].where.endswith(f", record at +0x0 ({record.NAME})")


@pytest.mark.parametrize("header, what", [
    (HEADER._replace(vcpus=0), "vcpus: expected 1 to 4294901759, got 0"),
    (HEADER._replace(domid=0x7FF0), "domid: expected below 0x7ff0, got 0x7ff0"),
    (HEADER._replace(name=""), "name: expected a domain name, got an empty string"),
    (HEADER._replace(config_kind=9),
     "config_kind: expected one of UNTAGGED, XL, XL_JSON, LIBVIRT_XML, got 9"),
    (HEADER._replace(config_kind=ConfigKind.XL_JSON, config=""),
     "config: expected the domain's configuration (XL_JSON), got an empty string"),
])
def test_trace_header_verifier(tmp_path, header, what):
    path = tmp_path / "t.xrr"
    write_trace(path, [], header=header)
    assert [f.what for f in report_of(path).findings] == [what]


@pytest.mark.parametrize("kind", list(ConfigKind), ids=lambda k: k.name)
def test_every_known_config_kind_verifies(tmp_path, kind):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(3), header=HEADER._replace(config_kind=kind))
    assert report_of(path).findings == []


def test_an_untagged_empty_config_verifies(tmp_path):
    """As `xenrr record DOMAIN` left it before config_kind when xl knew no configuration."""
    path = tmp_path / "t.xrr"
    write_trace(path, [], header=HEADER._replace(config=""))
    assert report_of(path).findings == []


R = Position(1, 0x1000, 5)   # a position inside a rep-string instruction


@pytest.mark.parametrize("record, sync_entry, branch", [
    (CrewEvent(0, 1, 2, 0, R), "position.rcx: expected 0 in SYNC_ENTRY mode, got 0x5", None),
    (Constraint(0, 1, P, R), "after_position.rcx: expected 0 in SYNC_ENTRY mode, got 0x5", None),
    (Rdtsc(1, 0, 0, R), "position.rcx: expected 0 in SYNC_ENTRY mode, got 0x5", None),
    (Dma(0xFFFF0000, 1, 0, 0, 0, Position(0, 0, 5), b""),
     "position.rcx: expected 0 for a device, got 0x5", "position.rcx: expected 0 for a device, got 0x5"),
])
def test_rcx_is_0_but_in_a_branch_trace(tmp_path, record, sync_entry, branch):
    for mode, what in ((PositionMode.SYNC_ENTRY, sync_entry), (PositionMode.BRANCH, branch)):
        path = tmp_path / f"{mode.name}.xrr"
        write_trace(path, [record], header=HEADER._replace(position_mode=mode))
        assert [f.what for f in report_of(path).findings] == ([what] if what else [])


def _with_bytes(record, body_offset: int, value: bytes) -> bytes:
    data = bytearray(framed(record))
    at = RECORD_HEADER.size + body_offset
    data[at:at + len(value)] = value
    return bytes(data)


def test_reserved_and_padding_bytes(tmp_path):
    crew = _with_bytes(crew_events(1)[0], 6, b"\x01\x02")
    dma = _with_bytes(Dma(0xFFFF0000, 1, 0, 3, 0, Position(0, 0), b"abc"), 51, b"\x09")
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER) + crew + dma)]))
    assert [f.what for f in report_of(path).findings] == [
        "reserved: expected zero bytes, got 0102",
        "padding: expected zero bytes, got 0900000000",
        "expected an end_of_trace record before the footer, got none",
    ]


def test_records_after_end_of_trace_and_its_totals(tmp_path):
    end = EndOfTrace(EndReason.STOPPED, 5, 999)
    path = tmp_path / "t.xrr"
    path.write_bytes(assemble([(0, framed(HEADER, end)), (1, framed(crew_events(1)[0]))]))
    findings = report_of(path).findings
    assert [f.what for f in findings] == [
        "records: expected 1, got 5",
        "expected nothing after end_of_trace (at chunk 0 (stream 0) at 0x18, record at +0x58), "
        "got crew_event",
    ]


def test_unknown_records(tmp_path):
    path = tmp_path / "t.xrr"
    optional = RECORD_HEADER.pack(0xD852_7777, 0)
    mandatory = RECORD_HEADER.pack(0x5852_7777, 0)
    path.write_bytes(assemble([(0, framed(HEADER) + optional + mandatory)], close=False))
    assert [f.what for f in report_of(path).findings] == [
        "unknown mandatory record type 0x58527777",
        "expected a footer, got none: the trace was not closed",
    ]


def test_broken_framing_and_missing_header(tmp_path):
    path = tmp_path / "t.xrr"
    data = assemble([(0, framed(crew_events(1)[0])), (0, RECORD_HEADER.pack(0x12, 0))], close=False)
    path.write_bytes(data)
    findings = report_of(path).findings
    assert [(f.where, f.what) for f in findings] == [
        ("record 0", "expected a trace_header record, got none (first chunk lost?)"),
        (f"chunk 1 (stream 0) at {chunk_offsets(data)[1]:#x}",
         "framing: record at +0x0: 0x00000012 is not a record type"),
        ("end of file", "expected a footer, got none: the trace was not closed"),
    ]


def _rewrite_footer(data: bytes, index: bytes, totals: tuple) -> bytes:
    """The same chunks, with another index and other totals."""
    footer_offset = TRAILER_STRUCT.unpack(data[-TRAILER_STRUCT.size:])[0]
    return data[:footer_offset] + encode_footer(*totals, index, footer_offset)


def test_index_and_totals_are_checked(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(20), Durability(chunk_bytes=256))
    data = path.read_bytes()
    with TraceReader(path) as r:
        f = r.footer
        entries = [e.tolist() for block in r.index() for e in block]
    entries[2] = (entries[2][0], 7, entries[2][2] + 1)
    index = b"".join(INDEX_ENTRY_STRUCT.pack(*e) for e in entries)
    path.write_bytes(_rewrite_footer(data, index, (f.chunks, f.records + 1, f.raw_bytes, f.stored_bytes)))
    findings = report_of(path).findings
    assert [(x.where, x.what) for x in findings] == [
        ("index entry 2", "stream: expected 0x7, got 0x0"),
        ("index entry 2", "records: expected 0x5, got 0x4"),
        (f"footer at {f.offset:#x}", "expected (chunks, records, raw bytes, stored bytes) "
                                     f"({f.chunks}, {f.records + 1}, {f.raw_bytes}, {f.stored_bytes}), "
                                     f"got ({f.chunks}, {f.records}, {f.raw_bytes}, {f.stored_bytes})"),
    ]


def test_losses_are_findings_and_excuse_the_totals(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(20), Durability(chunk_bytes=256))
    data = bytearray(path.read_bytes())
    data[200] ^= 0x40
    path.write_bytes(data)
    findings = report_of(path).findings
    assert len(findings) == 1
    assert findings[0].where.startswith("bytes 0x") and "checksum expected" in findings[0].what
    assert findings[0].what.endswith("; chunk 1 was lost")


PAGE = b"\x07" * 4096


def _frames(first: int, count: int) -> StartFrames:
    return StartFrames(first, count, tuple(StartFrame(0x1000 + p, frame_digest(PAGE))
                                           for p in range(first, first + count)))


def test_start_frames_cover_the_pfns_once_each_in_order(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [_frames(0, 4), _frames(4, 4), _frames(6, 4), _frames(12, 2), _frames(14, 1),
                       StartContents(frame_digest(PAGE), PAGE)])
    assert [f.what for f in report_of(path).findings] == [
        "first_pfn: expected 0x8, got 0x6 (pfn 0x6 given before: records overlap or are out of order)",
        "first_pfn: expected 0xa, got 0xc (pfns 0xa-0xb missing, or records out of order)"]


GOOD = StartContents(frame_digest(PAGE), PAGE)


@pytest.mark.parametrize("contents, what", [
    ([StartContents(frame_digest(PAGE), PAGE[1:]), GOOD], "data: expected 4096 bytes, got 4095"),
    ([StartContents(5, PAGE), GOOD],
     f"digest: expected {frame_digest(PAGE):#018x}, the data's, got 0x0000000000000005"),
    ([GOOD, GOOD], f"digest: {frame_digest(PAGE):#018x} given before"),
])
def test_start_contents_are_a_frame_under_its_digest_once(tmp_path, contents, what):
    path = tmp_path / "t.xrr"
    write_trace(path, [_frames(0, 2), *contents, *crew_events(1)])
    assert [f.what for f in report_of(path).findings] == [what]


def test_a_start_frame_digest_without_its_bytes(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [_frames(0, 2), *crew_events(1)])
    finding, = report_of(path).findings
    assert finding.what == ("expected a start_contents record for every start frame's digest "
                            "before this record, got none for 1, e.g. "
                            f"{frame_digest(PAGE):#018x}")
    assert finding.where.endswith("(crew_event)")


def test_a_start_frames_gap_after_lost_chunks_is_the_losses(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [_frames(p, 8) for p in range(0, 64, 8)], Durability(chunk_bytes=256))
    data = bytearray(path.read_bytes())
    data[300] ^= 0x40
    path.write_bytes(data)
    findings = report_of(path).findings
    assert len(findings) == 1 and "checksum expected" in findings[0].what
    with TraceReader(path) as r, pytest.raises(RecordError, match="missing"):
        gather_start_frames(r.records(frozenset({StartFrames.TYPE})))


def test_the_listing_is_bounded(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, [CrewEvent(9, 1, 2, 0, P)] * (checks.MAX_LISTED + 5))
    report = report_of(path)
    assert report.count == checks.MAX_LISTED + 5 and len(report.findings) == checks.MAX_LISTED
