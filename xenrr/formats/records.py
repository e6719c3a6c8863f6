"""The record definitions: one construct Struct per record (trace-format.md, "Records").

These Structs are the single source of every record's layout. The record
classes, struct formats and numpy dtypes (recordtype, derive), the spec's
field tables (spec), the C header for the hypervisor (cheader) and the
pretty-printer templates (display) are all derived from them.

Conventions every definition keeps (the bulk scan relies on them): little
endian; a record that belongs to an actor has that actor id as a u32 at body
offset 0; fixed-size members come first, 8-byte members at 8-byte offsets;
reserved bytes are explicit Padding, written as zero.
"""

from construct import (Array, GreedyBytes, Int8sl, Int8ul, Int16ul, Int32ul, Int64ul,
                       Bytes, Padding, PascalString, Struct, this)

from xenrr.formats.derive import enum, named
from xenrr.formats.enums import (ConfigKind, ContextFormat, CrewState, DmaKind, EndReason,
                                 GuestType, InputKind, PositionMode, XenFrameKind)
from xenrr.formats.recordtype import define, value_class
from xenrr.formats.registers import REGISTERS
from xenrr.formats.rectypes import (REC_TYPE_ASYNC_INPUT, REC_TYPE_CONSTRAINT,
                                    REC_TYPE_CREW_EVENT, REC_TYPE_CREW_PLACE,
                                    REC_TYPE_END_FRAMES, REC_TYPE_END_REGISTERS,
                                    REC_TYPE_REPLAY_WAIT,
                                    REC_TYPE_DIGEST, REC_TYPE_DMA,
                                    REC_TYPE_END_OF_TRACE, REC_TYPE_RDTSC,
                                    REC_TYPE_START_CONTENTS, REC_TYPE_START_FRAMES,
                                    REC_TYPE_TIME_UPDATE,
                                    REC_TYPE_TRACE_HEADER, REC_TYPE_VCPU_STATE,
                                    REC_TYPE_XEN_FRAME)

POSITION = named("Position", Struct(
    "count" / Int64ul * "events counted in the trace's position mode since the vCPU started",
    "rip" / Int64ul * "guest instruction pointer at that point: a check against divergence, "
                      "and in BRANCH mode part of what tells points apart",
    "rcx" / Int64ul * "guest rcx at that point: tells apart the iterations of a rep-string "
                      "instruction (BRANCH mode); 0 in SYNC_ENTRY mode",
))
Position = value_class(POSITION, show="{count}@{rip:#x}", show_nonzero={"rcx": " rcx {rcx}"},
                       defaults={"rcx": 0})

START_FRAME = named("StartFrame", Struct(
    "mfn" / Int64ul * "machine frame at this pfn when recording started; INVALID_MFN where "
                      "the domain had none",
    "digest" / Int64ul * "digest of that frame's contents then (see start_frames); 0 where "
                         "there is no frame",
))
StartFrame = value_class(START_FRAME, show="{mfn:#x} {digest:#018x}")

TraceHeader = define(REC_TYPE_TRACE_HEADER, "TraceHeader", Struct(
    "domid" / Int32ul * "domain id of the recorded guest",
    "vcpus" / Int32ul * "number of vCPUs; vCPU actor ids are 0 to vcpus - 1",
    "guest_type" / enum(Int32ul, GuestType) * "kind of guest",
    "position_mode" / enum(Int32ul, PositionMode) * "what every position's count counts",
    "xenrr_interface" / Int32ul * "version of the patched Xen's record/replay interface",
    "config_kind" / enum(Int32ul, ConfigKind) * "what config holds",
    "start_time" / Int64ul * "wall-clock time the recording started, ns since the Unix epoch",
    "name" / PascalString(Int16ul, "utf8") * "domain name",
    "xen_version" / PascalString(Int16ul, "utf8") * "Xen version string, e.g. 4.17.5",
    "config" / PascalString(Int32ul, "utf8") * "the domain's configuration, as config_kind says",
), doc="The domain recorded and how; the first record of the trace.",
   show="domain {domid} {name!r}: {vcpus} vCPUs, {guest_type}, Xen {xen_version}, "
        "interface {xenrr_interface}, positions {position_mode}, config {config_kind}",
   origin="toolstack", defaults={"config_kind": ConfigKind.UNTAGGED})

VcpuState = define(REC_TYPE_VCPU_STATE, "VcpuState", Struct(
    "vcpu" / Int32ul * "vCPU id",
    "format" / enum(Int32ul, ContextFormat) * "layout of context",
    "context" / GreedyBytes * "the vCPU's register state when recording started; empty for a "
                              "vCPU that was down (a PV guest brings its others up itself)",
), doc="A vCPU's state when recording started.",
   show="vcpu {vcpu} {format} context {context}",
   origin="toolstack")

EndOfTrace = define(REC_TYPE_END_OF_TRACE, "EndOfTrace", Struct(
    "reason" / enum(Int32ul, EndReason) * "why the recording stopped",
    "reserved" / Padding(4),
    "records" / Int64ul * "number of records before this one",
    "bytes" / Int64ul * "framed bytes of the records before this one",
), doc="The last record of a trace closed cleanly.",
   show="{reason} after {records} records, {bytes} bytes",
   origin="toolstack")

def _frames(rtype: int, class_name: str, when: str) -> type:
    """A record of a run of pfns' frames and digests: start_frames, end_frames."""
    return define(rtype, class_name, Struct(
        "first_pfn" / Int64ul * "pfn of the first entry; the entries are for consecutive pfns",
        "count" / Int32ul * "number of entries",
        "reserved" / Padding(4),
        "entries" / Array(this.count, START_FRAME) * "the frame and its digest at each pfn, "
                                                     "from first_pfn up",
    ), doc=f"The machine frames of a run of pfns and their contents' digests when {when}.",
        show="pfns {first_pfn:#x}+{count}", origin="toolstack")


StartFrames = _frames(REC_TYPE_START_FRAMES, "StartFrames", "recording started")

StartContents = define(REC_TYPE_START_CONTENTS, "StartContents", Struct(
    "digest" / Int64ul * "the digest (see start_frames) of every start frame holding these bytes",
    "data" / GreedyBytes * "those bytes: the 4096 of one frame",
), doc="The bytes the start frames of one digest held when recording started.",
   show="digest {digest:#018x} {data}",
   origin="toolstack")

XenFrame = define(REC_TYPE_XEN_FRAME, "XenFrame", Struct(
    "kind" / enum(Int32ul, XenFrameKind) * "which page of Xen's",
    "index" / Int32ul * "which one of its kind; 0 for SHARED_INFO",
    "mfn" / Int64ul * "its machine frame when recording started",
), doc="A page of Xen's the guest knows by number, and its frame when recording started.",
   show="{kind} {index} mfn {mfn:#x}",
   origin="toolstack")

EndFrames = _frames(REC_TYPE_END_FRAMES, "EndFrames", "recording ended (digest 0: left out)")

EndRegisters = define(REC_TYPE_END_REGISTERS, "EndRegisters", Struct(
    "vcpu" / Int32ul * "vCPU id",
    "up" / Int32ul * "1 if the vCPU was up, 0 if it was down (its registers then zero)",
    *(name / Int64ul * (f"{name} (of rflags the bits of RFLAGS_KEPT only)" if name == "rflags"
                        else name) for name in REGISTERS),
), doc="A vCPU's general registers when recording ended.",
   show="vcpu {vcpu} up {up} rip {rip:#x} rsp {rsp:#x} rax {rax:#x}",
   origin="toolstack")

CrewEvent = define(REC_TYPE_CREW_EVENT, "CrewEvent", Struct(
    "vcpu" / Int32ul * "actor whose access changed: the victim of a reduction, "
                       "the faulting actor of an increase",
    "old_state" / enum(Int8ul, CrewState) * "its access to the frame before",
    "new_state" / enum(Int8ul, CrewState) * "its access to the frame after",
    "reserved" / Padding(2),
    "gfn" / Int64ul * "guest frame number",
    "position" / POSITION * "the actor's position when the change took effect",
    "registers" / Int64ul * "digest of the actor's general registers at that position "
                            "(register_digest); 0 where none was taken",
), doc="A change of one actor's CREW access to one guest frame.",
   show="vcpu {vcpu} gfn {gfn:#x} {old_state}->{new_state} at {position}",
   defaults={"registers": 0},
   origin="xen")

Constraint = define(REC_TYPE_CONSTRAINT, "Constraint", Struct(
    "vcpu" / Int32ul * "the actor that waits",
    "after_vcpu" / Int32ul * "the actor waited for",
    "position" / POSITION * "vcpu does not pass this position...",
    "after_position" / POSITION * "...until after_vcpu has passed this one",
), doc="An ordering replay must enforce between two actors.",
   show="vcpu {vcpu} at {position} waits for vcpu {after_vcpu} to pass {after_position}",
   origin="xen")

CrewPlace = define(REC_TYPE_CREW_PLACE, "CrewPlace", Struct(
    "vcpu" / Int32ul * "the vCPU the changes were forced on",
    "reserved" / Padding(4),
    "position" / POSITION * "the vCPU's position at which they took effect",
    "registers" / Int64ul * "digest of the vCPU's general registers there; 0 where none was "
                            "taken",
), doc="Where the changes forced on a vCPU since its last crew_place took effect (rings only).",
   show="vcpu {vcpu} forced changes at {position}",
   defaults={"registers": 0},
   origin="xen")

ReplayWait = define(REC_TYPE_REPLAY_WAIT, "ReplayWait", Struct(
    "vcpu" / Int32ul * "the vCPU that waits, before its next crew_event",
    "after_vcpu" / Int32ul * "the vCPU waited for",
    "events" / Int64ul * "...until after_vcpu has applied this many of its crew_events",
), doc="A constraint as replay gives it to Xen, counted in the other vCPU's events (rings only).",
   show="vcpu {vcpu} waits for vcpu {after_vcpu} to apply {events} events",
   origin="replay")

AsyncInput = define(REC_TYPE_ASYNC_INPUT, "AsyncInput", Struct(
    "vcpu" / Int32ul * "vCPU at whose position Xen published the input",
    "kind" / enum(Int16ul, InputKind) * "which guest-visible state it is",
    "length" / Int16ul * "bytes of data",
    "gfn" / Int64ul * "guest frame Xen wrote",
    "offset" / Int32ul * "byte offset in that frame",
    "reserved" / Padding(4),
    "position" / POSITION * "the vCPU's position when the bytes became visible",
    "data" / Bytes(this.length) * "the bytes written",
), doc="Guest-visible state Xen queued and then published at a position.",
   show="vcpu {vcpu} {kind} gfn {gfn:#x}+{offset:#x} {data} at {position}",
   origin="xen")

Rdtsc = define(REC_TYPE_RDTSC, "Rdtsc", Struct(
    "vcpu" / Int32ul * "vCPU that read the time stamp counter",
    "aux" / Int32ul * "TSC_AUX value returned (rdtscp), else zero",
    "tsc" / Int64ul * "value returned",
    "position" / POSITION * "the vCPU's position before the instruction",
), doc="The value an emulated rdtsc or rdtscp returned.",
   show="vcpu {vcpu} tsc {tsc:#x} aux {aux} at {position}",
   origin="xen")

TimeUpdate = define(REC_TYPE_TIME_UPDATE, "TimeUpdate", Struct(
    "vcpu" / Int32ul * "vCPU whose vcpu_time_info Xen updated",
    "version" / Int32ul * "pvclock version (even once the update is complete)",
    "tsc_timestamp" / Int64ul * "pvclock tsc_timestamp",
    "system_time" / Int64ul * "pvclock system_time, ns",
    "tsc_to_system_mul" / Int32ul * "pvclock tsc_to_system_mul",
    "tsc_shift" / Int8sl * "pvclock tsc_shift",
    "flags" / Int8ul * "pvclock flags",
    "reserved" / Padding(2),
    "position" / POSITION * "the vCPU's position when the update became visible",
), doc="A pvclock update Xen published at a position.",
   show="vcpu {vcpu} system_time {system_time} tsc {tsc_timestamp:#x} "
        "mul {tsc_to_system_mul} shift {tsc_shift} at {position}",
   origin="xen")

Dma = define(REC_TYPE_DMA, "Dma", Struct(
    "actor" / Int32ul * "device actor id (ACTOR_DEVICE_BASE + n)",
    "kind" / enum(Int16ul, DmaKind) * "how the bytes reached guest memory",
    "reserved" / Padding(2),
    "offset" / Int32ul * "byte offset in the frame",
    "length" / Int32ul * "bytes of data",
    "gfn" / Int64ul * "guest frame written",
    "position" / POSITION * "the device's position: count = its transaction number, "
                                    "rip = 0, rcx = 0",
    "data" / Bytes(this.length) * "the bytes the device wrote",
), doc="Bytes a device actor wrote into guest memory.",
   show="actor {actor:#x} {kind} gfn {gfn:#x}+{offset:#x} {data} at {position}",
   origin="xen")

Digest = define(REC_TYPE_DIGEST, "Digest", Struct(
    "vcpu" / Int32ul * "vCPU digested",
    "flags" / Int32ul * "DIGEST_MEMORY (bit 0): mem_digest is valid; other bits zero",
    "reg_digest" / Int64ul * "digest of the vCPU's registers",
    "mem_digest" / Int64ul * "digest of guest memory, zero unless DIGEST_MEMORY",
    "position" / POSITION * "the vCPU's position at the checkpoint",
), doc="State digests replay compares against (optional: readers may skip it).",
   show="vcpu {vcpu} registers {reg_digest:#018x} memory {mem_digest:#018x} at {position}",
   origin="xen")

RECORD_CLASSES = (TraceHeader, VcpuState, EndOfTrace, StartFrames, XenFrame, StartContents,
                  CrewEvent, Constraint, CrewPlace, ReplayWait, AsyncInput, Rdtsc, TimeUpdate,
                  Dma, Digest, EndFrames, EndRegisters)
BY_TYPE = {cls.TYPE: cls for cls in RECORD_CLASSES}
BY_NAME = {cls.NAME: cls for cls in RECORD_CLASSES}
