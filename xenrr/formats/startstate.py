"""The memory replay starts from: frames by pfn, their digests and bytes (spec "start_frames").

A replayed PV guest sees machine frame numbers, so it must start on exactly
the frames its recording had, holding the same bytes. The recorder writes,
right after the trace_header, start_frames records covering every pfn of the
domain from 0 up, one start_contents per distinct digest, then one
vcpu_state per vCPU; replay compares them before the guest's first
instruction. The bytes are needed, not only their digests: what a frame
holds before the builder writes it is what it last held (Xen frees its own
pages, such as shadows, unscrubbed, and a debug Xen fills free pages with a
pattern), so the same frame handed to the replayed domain may hold other
leftovers, which the guest could read. This module is the one definition of
a frame's digest, of how a domain's frames are cut into records, and of how
a trace's records are gathered back into a table by pfn; StartState is the
whole start (with the xen_frame and vcpu_state records), as a trace holds it
and as rrdomain/start.py reads it from Xen.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from xenrr.formats.enums import INVALID_MFN, ContextFormat, XenFrameKind
from xenrr.formats.errors import RecordError
from xenrr.formats.records import (StartContents, StartFrame, StartFrames, TraceHeader, VcpuState,
                                   XenFrame)

START_FRAMES_ENTRIES = 4096  # entries per record as xenrr writes them: bodies of 64 KiB + 16 bytes
FRAME_BYTES = 4096


def frame_digest(data: bytes) -> int:
    """The digest of a frame's contents in start_frames: 8-byte BLAKE2b, a little-endian u64."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def start_frames_records(mfns: Sequence[int], digests: Sequence[int],
                         cls: type = StartFrames) -> list:
    """The start_frames records of a domain whose pfn p has frame mfns[p] with digest digests[p].

    INVALID_MFN (digest 0) where the domain has no frame. Any sequences of
    ints (numpy arrays too); START_FRAMES_ENTRIES pfns per record, in pfn order.
    cls=EndFrames: its end_frames records, which have the same layout.
    """
    if len(mfns) != len(digests):
        raise RecordError(f"{cls.NAME}: {len(mfns)} mfns but {len(digests)} digests")
    records = []
    for first in range(0, len(mfns), START_FRAMES_ENTRIES):
        last = first + START_FRAMES_ENTRIES
        entries = tuple(map(StartFrame, map(int, mfns[first:last]), map(int, digests[first:last])))
        records.append(cls(first_pfn=first, count=len(entries), entries=entries))
    return records


def coverage_problem(covered: int, record: StartFrames) -> str | None:
    """What is wrong with `record` following records that covered pfns 0 to covered - 1, or None.

    The records of a trace cover its pfns from 0 up, once each, in order.
    """
    if record.first_pfn > covered:
        return (f"first_pfn: expected {covered:#x}, got {record.first_pfn:#x} (pfns "
                f"{covered:#x}-{record.first_pfn - 1:#x} missing, or records out of order)")
    if record.first_pfn < covered:
        return (f"first_pfn: expected {covered:#x}, got {record.first_pfn:#x} (pfn "
                f"{record.first_pfn:#x} given before: records overlap or are out of order)")
    return None


def gather_start_frames(records: Iterable) -> tuple[list[int], list[int]]:
    """(mfns, digests), lists indexed by pfn, from a trace's start_frames records in trace order.

    For instance from reader.records(frozenset({StartFrames.TYPE})); or its
    end_frames records. Records that do not cover the pfns from 0 up once
    each, in order, or none at all, are a RecordError saying in one line
    what is wrong.
    """
    mfns, digests = [], []
    for index, record in enumerate(records):
        problem = coverage_problem(len(mfns), record)
        if problem is not None:
            raise RecordError(f"{record.NAME} record {index}: {problem}")
        mfns.extend(entry.mfn for entry in record.entries)
        digests.extend(entry.digest for entry in record.entries)
    if not mfns:
        raise RecordError("start_frames: no entries in the trace: no frames to start replay on")
    return mfns, digests


@dataclass(frozen=True)
class StartState:
    """A domain's whole start: what replay must begin from, exactly."""

    mfns: tuple[int, ...]       # by pfn; INVALID_MFN where the domain has none
    digests: tuple[int, ...]    # by pfn: frame_digest of the frame's bytes, 0 where none
    contexts: tuple[bytes, ...]  # by vCPU: struct vcpu_guest_context as Xen reports it;
                                 # empty for a vCPU that is down (not yet brought up)
    shared_info: int            # the machine frame of its shared_info
    contents: Mapping[int, bytes]  # by digest: the bytes of every frame with that digest

    def frames(self) -> int:
        return sum(m != INVALID_MFN for m in self.mfns)

    def distinct(self) -> list[int]:
        """The digests of the domain's frames, each once, in the order of the first pfn with it."""
        return list(dict.fromkeys(d for m, d in zip(self.mfns, self.digests) if m != INVALID_MFN))

    def summary(self) -> dict:
        """What `xenrr log info` says of it."""
        return {"frames": self.frames(), "pfns": len(self.mfns),
                "shared_info": self.shared_info, "vcpus": len(self.contexts),
                "vcpus_up": sum(map(bool, self.contexts))}

    def records(self) -> list:
        """What the trace keeps of it, in trace order."""
        return [*start_frames_records(self.mfns, self.digests),
                *(StartContents(digest=d, data=self.contents[d]) for d in self.distinct()),
                XenFrame(kind=XenFrameKind.SHARED_INFO, index=0, mfn=self.shared_info),
                *(VcpuState(vcpu=v, format=ContextFormat.X86_64_PV, context=c)
                  for v, c in enumerate(self.contexts))]


def trace_start(reader) -> StartState | None:
    """The start state that leads a trace (right after its header), or None if it has none."""
    leading = []
    for record in reader.records():
        if isinstance(record, TraceHeader):
            continue
        if not isinstance(record, (StartFrames, StartContents, XenFrame, VcpuState)):
            break
        leading.append(record)
    return start_from_trace(leading)


def start_from_trace(records: Iterable) -> StartState | None:
    """The start state a trace's records hold, or None for a trace that has none."""
    frames, contents, contexts, shared_info = [], {}, {}, INVALID_MFN
    for r in records:
        if isinstance(r, StartContents):
            contents[r.digest] = bytes(r.data)
        elif isinstance(r, XenFrame) and r.kind == XenFrameKind.SHARED_INFO:
            shared_info = r.mfn
        elif isinstance(r, VcpuState):
            if r.format == ContextFormat.X86_64_PV:
                contexts[r.vcpu] = bytes(r.context)
        elif isinstance(r, StartFrames):
            frames.append(r)
    if not frames:
        return None
    mfns, digests = gather_start_frames(frames)
    start = StartState(tuple(mfns), tuple(digests),
                       tuple(contexts[v] for v in sorted(contexts)), shared_info, contents)
    missing = [d for d in start.distinct() if d not in contents]
    if missing:
        pfn = start.digests.index(missing[0])
        raise RecordError(f"start_contents: none for {len(missing)} of the start frames' digests, "
                          f"first {missing[0]:#018x} (pfn {pfn:#x}): replay could not give the "
                          "guest those bytes")
    return start
