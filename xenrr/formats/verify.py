"""`xenrr log verify`: check a whole trace and say what is wrong and where.

As in Xen's migration-stream verifier (tools/python/xen/migration/libxc.py),
record checks are a dispatch table of small verify_<record> functions that
raise Problem("expected X, got Y"). The checks every record gets the same
way (known type, padding, length, reserved bytes, enum values) are derived
from the record's Layout, so the table holds only what is particular to a
record. Chunk damage comes from the reader's losses; the footer's index and
totals are compared with what the chunks hold (spec "Verification").
"""

from collections.abc import Callable
from dataclasses import dataclass

from xenrr.formats import framing
from xenrr.formats.enums import (ACTOR_DEVICE_BASE, DIGEST_MEMORY, INVALID_MFN, ConfigKind,
                                 PositionMode, XenFrameKind)
from xenrr.formats.errors import RecordError
from xenrr.formats.fileformat import INDEX_LAYOUT
from xenrr.formats.derive import layout_of
from xenrr.formats.records import BY_TYPE, POSITION
from xenrr.formats.recordtype import RECORD_HEADER, padded
from xenrr.formats.rectypes import (REC_OPTIONAL, REC_TYPE_ASYNC_INPUT, REC_TYPE_CONSTRAINT,
                                    REC_TYPE_CREW_EVENT, REC_TYPE_CREW_PLACE, REC_TYPE_DIGEST,
                                    REC_TYPE_END_FRAMES, REC_TYPE_END_REGISTERS,
                                    REC_TYPE_REPLAY_WAIT,
                                    REC_TYPE_DMA, REC_TYPE_END_OF_TRACE, REC_TYPE_RDTSC,
                                    REC_TYPE_START_CONTENTS, REC_TYPE_START_FRAMES,
                                    REC_TYPE_TIME_UPDATE,
                                    REC_TYPE_TRACE_HEADER, REC_TYPE_VCPU_STATE,
                                    REC_TYPE_XEN_FRAME, type_name)
from xenrr.formats.registers import REGISTERS, RFLAGS_KEPT
from xenrr.formats.startstate import FRAME_BYTES, coverage_problem, frame_digest

PAGE_SIZE = 4096
DOMID_FIRST_RESERVED = 0x7FF0
MAX_LISTED = 100


class Problem(Exception):
    """One finding of a verifier, in the words "expected X, got Y"."""


@dataclass(frozen=True)
class Finding:
    """A problem and where it is: a file offset (for ordering) and a place in words."""

    offset: int
    where: str
    what: str

    def __str__(self):
        return f"{self.where}: {self.what}"


class Report:
    """The findings of one verification; keeps the first MAX_LISTED, counts them all."""

    def __init__(self):
        self.findings: list[Finding] = []
        self.count = 0
        self.chunks = 0
        self.records = 0

    def add(self, offset: int, where: str, what: str) -> None:
        self.count += 1
        if len(self.findings) < MAX_LISTED:
            self.findings.append(Finding(offset, where, what))

    @property
    def intact(self) -> bool:
        return self.count == 0


class _State:
    """What the record verifiers know of the trace so far."""

    def __init__(self):
        self.header = None
        self.records = 0      # records seen before the current one
        self.raw_bytes = 0    # their framed bytes
        self.end = None       # where end_of_trace was, once seen
        self.lossy = False    # whether chunks before the current one were lost
        self.pfns = 0         # pfns the start_frames records so far cover, from 0
        self.end_pfns = 0     # likewise for end_frames
        self.digests = set()  # the digests of the start frames so far
        self.contents = set()  # the digests start_contents records gave bytes for
        self.in_start = True  # until the first record that is not of the start state


def _actor(state: _State, field: str, actor: int, devices: bool = True) -> None:
    """An actor id names one of the trace's vCPUs, or (where allowed) a device."""
    if devices and actor >= ACTOR_DEVICE_BASE:
        return
    if state.header is not None and actor >= state.header.vcpus:
        raise Problem(f"{field}: expected a vCPU below {state.header.vcpus}"
                      f"{' or a device actor' if devices else ''}, got {actor:#x}")


def verify_trace_header(state: _State, r) -> None:
    """trace_header: record 0, once, describing a domain that can be replayed."""
    if state.records != 0:
        raise Problem(f"expected the trace header as record 0, got it as record {state.records}")
    state.header = r
    if not 1 <= r.vcpus < ACTOR_DEVICE_BASE:
        raise Problem(f"vcpus: expected 1 to {ACTOR_DEVICE_BASE - 1}, got {r.vcpus}")
    if r.domid >= DOMID_FIRST_RESERVED:
        raise Problem(f"domid: expected below {DOMID_FIRST_RESERVED:#x}, got {r.domid:#x}")
    if not r.name:
        raise Problem("name: expected a domain name, got an empty string")
    if r.config_kind in (ConfigKind.XL, ConfigKind.XL_JSON, ConfigKind.LIBVIRT_XML) and not r.config:
        raise Problem(f"config: expected the domain's configuration "
                      f"({ConfigKind(r.config_kind).name}), got an empty string")


def verify_vcpu_state(state: _State, r) -> None:
    """vcpu_state: a vCPU's context (empty: the vCPU was down)."""
    _actor(state, "vcpu", r.vcpu, devices=False)


def verify_xen_frame(state: _State, r) -> None:
    """xen_frame: a page of Xen's the guest knows, on a frame."""
    if r.mfn == INVALID_MFN:
        raise Problem(f"mfn: expected the frame of {XenFrameKind(r.kind).name}, got INVALID_MFN")


def verify_end_of_trace(state: _State, r) -> None:
    """end_of_trace: its totals are those of the records before it (unless chunks were lost)."""
    if state.lossy:
        return
    if r.records != state.records:
        raise Problem(f"records: expected {state.records}, got {r.records}")
    if r.bytes != state.raw_bytes:
        raise Problem(f"bytes: expected {state.raw_bytes}, got {r.bytes}")


def verify_start_frames(state: _State, r) -> None:
    """start_frames: the pfns from 0 up, once each, in order; no digest where there is no frame."""
    covered, state.pfns = state.pfns, max(state.pfns, r.first_pfn + r.count)
    _frames_cover(covered, r, state.lossy)
    state.digests.update(e.digest for e in r.entries if e.mfn != INVALID_MFN)


def verify_end_frames(state: _State, r) -> None:
    """end_frames: as start_frames."""
    covered, state.end_pfns = state.end_pfns, max(state.end_pfns, r.first_pfn + r.count)
    _frames_cover(covered, r, state.lossy)


def verify_end_registers(state: _State, r) -> None:
    """end_registers: a vCPU up (1) or down (0, its registers zero); of rflags the kept bits."""
    _actor(state, "vcpu", r.vcpu, devices=False)
    if r.up not in (0, 1):
        raise Problem(f"up: expected 0 or 1, got {r.up}")
    if not r.up and any(getattr(r, name) for name in REGISTERS):
        raise Problem("up: 0, yet registers are given: expected zeros")
    if r.rflags & ~RFLAGS_KEPT:
        raise Problem(f"rflags: expected only bits of {RFLAGS_KEPT:#x}, got {r.rflags:#x}")


def _frames_cover(covered: int, r, lossy: bool) -> None:
    """start_frames, end_frames: the pfns from 0 up, once each; no digest where no frame."""
    problem = coverage_problem(covered, r)
    # a gap after lost chunks may be what they held: the losses say so
    if problem is not None and not (lossy and r.first_pfn > covered):
        raise Problem(problem)
    for pfn, entry in enumerate(r.entries, r.first_pfn):
        if entry.mfn == INVALID_MFN and entry.digest:
            raise Problem(f"entries: pfn {pfn:#x} has no frame: expected digest 0, "
                          f"got {entry.digest:#x}")


def verify_start_contents(state: _State, r) -> None:
    """start_contents: a frame's bytes, under their digest, once."""
    if len(r.data) != FRAME_BYTES:
        raise Problem(f"data: expected {FRAME_BYTES} bytes, got {len(r.data)}")
    if frame_digest(r.data) != r.digest:
        raise Problem(f"digest: expected {frame_digest(r.data):#018x}, the data's, "
                      f"got {r.digest:#018x}")
    if r.digest in state.contents:
        raise Problem(f"digest: {r.digest:#018x} given before")
    state.contents.add(r.digest)


def _end_of_start(state: _State) -> None:
    """Every start frame's digest has its bytes in the start state (spec "start_contents")."""
    state.in_start = False
    missing = state.digests - state.contents
    if missing and not state.lossy:
        raise Problem(f"expected a start_contents record for every start frame's digest before "
                      f"this record, got none for {len(missing)}, e.g. {min(missing):#018x}")


def verify_crew_event(state: _State, r) -> None:
    """crew_event: an actor's access to a frame changes."""
    _actor(state, "vcpu", r.vcpu)
    if r.old_state == r.new_state:
        raise Problem(f"new_state: expected a change from {r.old_state}, got the same state")


def verify_constraint(state: _State, r) -> None:
    """constraint: one actor waits for another."""
    _actor(state, "vcpu", r.vcpu)
    _actor(state, "after_vcpu", r.after_vcpu)
    if r.vcpu == r.after_vcpu:
        raise Problem(f"after_vcpu: expected an actor other than {r.vcpu}, got the same one")


def verify_crew_place(state: _State, r) -> None:
    """crew_place: never in a trace; the recorder resolves it."""
    raise Problem("expected only in Xen's log rings, where the recorder gives its position to "
                  f"the crew_events forced on vCPU {r.vcpu}, got one in the trace")


def verify_replay_wait(state: _State, r) -> None:
    """replay_wait: never in a trace; replay makes it from a constraint for Xen."""
    raise Problem("expected only in the rings replay feeds Xen, where it stands for a "
                  f"constraint of vCPU {r.vcpu}, got one in the trace")


def _in_page(r) -> None:
    if r.offset + r.length > PAGE_SIZE:
        raise Problem(f"offset + length: expected at most {PAGE_SIZE}, got {r.offset + r.length}")


def verify_async_input(state: _State, r) -> None:
    """async_input: bytes Xen published to a vCPU, within one frame."""
    _actor(state, "vcpu", r.vcpu, devices=False)
    _in_page(r)


def verify_rdtsc(state: _State, r) -> None:
    """rdtsc: a vCPU read the time stamp counter."""
    _actor(state, "vcpu", r.vcpu, devices=False)


def verify_time_update(state: _State, r) -> None:
    """time_update: a complete pvclock update (even version) for a vCPU."""
    _actor(state, "vcpu", r.vcpu, devices=False)
    if r.version % 2:
        raise Problem(f"version: expected an even pvclock version, got {r.version}")


def verify_dma(state: _State, r) -> None:
    """dma: a device wrote bytes within one frame; its position has no rip."""
    if r.actor < ACTOR_DEVICE_BASE:
        raise Problem(f"actor: expected a device actor id from {ACTOR_DEVICE_BASE:#x}, got {r.actor:#x}")
    _in_page(r)
    if r.position.rip:
        raise Problem(f"position.rip: expected 0 for a device, got {r.position.rip:#x}")
    if r.position.rcx:
        raise Problem(f"position.rcx: expected 0 for a device, got {r.position.rcx:#x}")


def verify_digest(state: _State, r) -> None:
    """digest: flags known, no memory digest unless flagged."""
    _actor(state, "vcpu", r.vcpu, devices=False)
    if r.flags & ~DIGEST_MEMORY:
        raise Problem(f"flags: expected only {DIGEST_MEMORY:#x}, got {r.flags:#x}")
    if not r.flags & DIGEST_MEMORY and r.mem_digest:
        raise Problem(f"mem_digest: expected 0 without DIGEST_MEMORY, got {r.mem_digest:#x}")


VERIFIERS: dict[int, Callable[[_State, object], None]] = {
    REC_TYPE_TRACE_HEADER: verify_trace_header,
    REC_TYPE_VCPU_STATE: verify_vcpu_state,
    REC_TYPE_XEN_FRAME: verify_xen_frame,
    REC_TYPE_END_OF_TRACE: verify_end_of_trace,
    REC_TYPE_START_FRAMES: verify_start_frames,
    REC_TYPE_START_CONTENTS: verify_start_contents,
    REC_TYPE_END_FRAMES: verify_end_frames,
    REC_TYPE_END_REGISTERS: verify_end_registers,
    REC_TYPE_CREW_EVENT: verify_crew_event,
    REC_TYPE_CONSTRAINT: verify_constraint,
    REC_TYPE_CREW_PLACE: verify_crew_place,
    REC_TYPE_REPLAY_WAIT: verify_replay_wait,
    REC_TYPE_ASYNC_INPUT: verify_async_input,
    REC_TYPE_RDTSC: verify_rdtsc,
    REC_TYPE_TIME_UPDATE: verify_time_update,
    REC_TYPE_DMA: verify_dma,
    REC_TYPE_DIGEST: verify_digest,
}


def _check_layout(cls, block, body: int, length: int) -> None:
    """The checks every record gets from its Layout: padding, reserved bytes, enum values."""
    pad = block[body + length:body + padded(length)]
    if any(pad):
        raise Problem(f"padding: expected zero bytes, got {pad.hex()}")
    for m in cls.LAYOUT.fixed:
        if m.kind == "reserved" and any(block[body + m.offset:body + m.offset + m.size]):
            got = block[body + m.offset:body + m.offset + m.size].hex()
            raise Problem(f"{m.name}: expected zero bytes, got {got}")


def _check_enums(record) -> None:
    for m in record.LAYOUT.members:
        if m.kind == "enum":
            try:
                m.intenum(getattr(record, m.name))
            except ValueError:
                names = ", ".join(v.name for v in m.intenum)
                raise Problem(f"{m.name}: expected one of {names}, "
                              f"got {getattr(record, m.name)}") from None


# The members of each record type that are positions.
_POSITIONS = {cls.TYPE: tuple(m.name for m in cls.LAYOUT.fixed
                              if m.kind == "struct" and m.layout is layout_of(POSITION))
              for cls in BY_TYPE.values()}


def _check_positions(state: _State, record) -> None:
    """Every position of a SYNC_ENTRY trace has rcx 0 (spec "Positions and actors")."""
    if state.header is None or state.header.position_mode != PositionMode.SYNC_ENTRY:
        return
    for name in _POSITIONS[record.TYPE]:
        rcx = getattr(record, name).rcx
        if rcx:
            raise Problem(f"{name}.rcx: expected 0 in SYNC_ENTRY mode, got {rcx:#x}")


def _verify_record(state: _State, block, offset: int, rtype: int, length: int) -> None:
    """Check one record; Problem says what is wrong."""
    cls = BY_TYPE.get(rtype)
    if cls is None:
        if rtype & REC_OPTIONAL:
            return
        raise Problem(f"unknown mandatory record type {rtype:#010x}")
    if state.end is not None:
        raise Problem(f"expected nothing after end_of_trace (at {state.end}), got {cls.NAME}")
    body = offset + RECORD_HEADER.size
    _check_layout(cls, block, body, length)
    try:
        record = cls.CODEC.decode(block, body, length)
    except RecordError as e:
        raise Problem(str(e)) from None
    if rtype == REC_TYPE_TRACE_HEADER and state.records == 0:
        state.header = record  # there, whatever the checks below find wrong in it
    _check_enums(record)
    if state.in_start and rtype not in _START:
        _end_of_start(state)
    VERIFIERS[rtype](state, record)
    _check_positions(state, record)


# What a trace starts with, in stream 0, before anything happens.
_START = (REC_TYPE_TRACE_HEADER, REC_TYPE_START_FRAMES, REC_TYPE_START_CONTENTS,
          REC_TYPE_XEN_FRAME, REC_TYPE_VCPU_STATE)


def _verify_chunk(report: Report, state: _State, chunk) -> int:
    """Check a chunk's records; returns how many it holds."""
    place = f"chunk {chunk.sequence} (stream {chunk.stream}) at {chunk.offset:#x}"
    count = 0
    try:
        for offset, rtype, length in framing.walk(chunk.data):
            try:
                _verify_record(state, chunk.data, offset, rtype, length)
            except Problem as p:
                report.add(chunk.offset, f"{place}, record at +{offset:#x} ({type_name(rtype)})", str(p))
            if rtype == REC_TYPE_END_OF_TRACE:
                state.end = f"{place}, record at +{offset:#x}"
            count += 1
            state.records += 1
            state.raw_bytes += RECORD_HEADER.size + padded(length)
    except RecordError as e:
        report.add(chunk.offset, place, f"framing: {e}")
    return count


class _Index:
    """The footer's index entries, read in order alongside the chunks."""

    def __init__(self, reader):
        self._blocks = reader.index()
        import numpy as np  # noqa: PLC0415 - loaded when needed (derive.Layout.dtype)
        self._entries = np.empty(0, dtype=INDEX_LAYOUT.dtype)
        self._first = 0   # sequence number of self._entries[0]

    def entry(self, sequence: int):
        """The entry of chunk `sequence` (sequences only increase), or None past the index."""
        while sequence >= self._first + len(self._entries):
            block = next(self._blocks, None)
            if block is None:
                return None
            self._first += len(self._entries)
            self._entries = block
        return self._entries[sequence - self._first]


def _verify_index(report: Report, index: _Index, chunk, records: int) -> None:
    entry = index.entry(chunk.sequence)
    if entry is None:
        return
    for name, expected, got in (("offset", int(entry["offset"]), chunk.offset),
                                ("stream", int(entry["stream"]), chunk.stream),
                                ("records", int(entry["records"]), records)):
        if expected != got:
            report.add(chunk.offset, f"index entry {chunk.sequence}",
                       f"{name}: expected {expected:#x}, got {got:#x}")


def _verify_totals(report: Report, reader, state: _State, stored: int) -> None:
    footer = reader.footer
    where = f"footer at {footer.offset:#x}" if footer else "end of file"
    if footer is None:
        report.add(reader.size, where, "expected a footer, got none: the trace was not closed")
        return
    if state.end is None:
        report.add(footer.offset, where, "expected an end_of_trace record before the footer, got none")
    if reader.losses:
        return  # the totals cannot match what damage removed; the losses say why
    got = (report.chunks, report.records, state.raw_bytes, stored)
    expected = (footer.chunks, footer.records, footer.raw_bytes, footer.stored_bytes)
    if got != expected:
        report.add(footer.offset, where,
                   f"expected (chunks, records, raw bytes, stored bytes) {expected}, got {got}")


def verify(reader, progress: Callable[[int], None] | None = None) -> Report:
    """Check every part of the trace; progress(offset) after each chunk."""
    report, state, index = Report(), _State(), _Index(reader)
    stored = 0
    for chunk in reader.chunks():
        state.lossy = bool(reader.losses)
        records = _verify_chunk(report, state, chunk)
        _verify_index(report, index, chunk, records)
        report.chunks += 1
        report.records += records
        stored += chunk.size
        if progress is not None:
            progress(chunk.end)
    if state.header is None:
        report.add(0, "record 0", "expected a trace_header record, got none (first chunk lost?)")
    for loss in reader.losses:
        report.add(loss.start, loss.span, f"{loss.reason}; {loss.chunks} lost")
    _verify_totals(report, reader, state, stored)
    report.findings.sort(key=lambda f: f.offset)
    return report
