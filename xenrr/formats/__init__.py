"""The trace file: records defined once, chunked LZ4, a crash-tolerant reader.

docs/specs/trace-format.md is the specification; records.py holds the one
construct definition of each record, and everything else here is derived
from those definitions.

Writing and reading a trace:

    from xenrr.formats import (TraceWriter, TraceReader, TraceHeader, CrewEvent, Position,
                               ConfigKind, CrewState, GuestType, PositionMode)

    header = TraceHeader(domid=5, vcpus=2, guest_type=GuestType.PV,
                         position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1,
                         start_time=0, name="guest", xen_version="4.17.5",
                         config_kind=ConfigKind.XL, config="name = 'guest'")
    with TraceWriter("run.xrr", header=header) as w:      # run.xrr.partial until closed
        w.write(CrewEvent(vcpu=1, old_state=CrewState.CR, new_state=CrewState.EW,
                          gfn=0x1234, position=Position(count=42, rip=0xffffffff81000000)))

    with TraceReader("run.xrr") as r:
        for record in r.records():                        # header first, end_of_trace last
            if isinstance(record, CrewEvent):
                print(record.vcpu, hex(record.gfn), record.position.count)
        print(r.losses)                                   # what damage skipped, if any

Only TraceError subclasses (xenrr.errors) leave this package for anything
a file can cause.
"""

from xenrr.formats.enums import (ACTOR_DEVICE_BASE, DIGEST_MEMORY, INVALID_MFN, ConfigKind,
                                 ContextFormat, CrewState, DmaKind, EndReason, GuestType,
                                 InputKind, PositionMode, XenFrameKind)
from xenrr.formats.errors import (NotATraceError, RecordError, TraceDamaged, TraceWriteError,
                                  UnknownRecordError)
from xenrr.formats.reader import Chunk, Loss, TraceReader
from xenrr.formats.records import (BY_NAME, BY_TYPE, RECORD_CLASSES, AsyncInput, Constraint,
                                   CrewEvent, Digest, Dma, EndFrames, EndOfTrace, EndRegisters,
                                   Position, Rdtsc, StartContents, StartFrame, StartFrames,
                                   TimeUpdate, TraceHeader, VcpuState, XenFrame)
from xenrr.formats.writer import Durability, TraceWriter

__all__ = [
    "ACTOR_DEVICE_BASE", "DIGEST_MEMORY", "INVALID_MFN", "ConfigKind", "ContextFormat",
    "CrewState", "DmaKind", "EndReason", "GuestType", "InputKind", "PositionMode",
    "XenFrameKind",
    "NotATraceError", "RecordError", "TraceDamaged", "TraceWriteError", "UnknownRecordError",
    "Chunk", "Loss", "TraceReader", "Durability", "TraceWriter",
    "BY_NAME", "BY_TYPE", "RECORD_CLASSES", "AsyncInput", "Constraint", "CrewEvent", "Digest",
    "Dma", "EndFrames", "EndOfTrace", "EndRegisters", "Position", "Rdtsc", "StartContents",
    "StartFrame", "StartFrames", "TimeUpdate", "TraceHeader", "VcpuState", "XenFrame",
]
