"""Record type numbers: the one table (docs/specs/trace-format.md, "Record types").

Every number is written out in hex and never derived from an order, so that
adding a record cannot renumber another (QEMU's replay log did that with an
implicit enum). Bits 16-30 of every type hold REC_TYPE_IDENT ("XR"): a bulk
scan finds record headers in a decompressed chunk with one mask (see
xenrr.formats.scan). Bit 31 marks a record a reader may skip when it does not
know it, as in Xen's migration stream.
"""

REC_OPTIONAL = 0x80000000
REC_TYPE_IDENT = 0x58520000
REC_TYPE_IDENT_MASK = 0x7FFF0000

REC_TYPE_TRACE_HEADER = 0x58520001
REC_TYPE_VCPU_STATE = 0x58520002
REC_TYPE_END_OF_TRACE = 0x58520003
REC_TYPE_START_FRAMES = 0x58520004
REC_TYPE_XEN_FRAME = 0x58520005
REC_TYPE_START_CONTENTS = 0x58520006
REC_TYPE_CREW_EVENT = 0x58520010
REC_TYPE_CONSTRAINT = 0x58520011
REC_TYPE_CREW_PLACE = 0x58520012
REC_TYPE_REPLAY_WAIT = 0x58520013
REC_TYPE_ASYNC_INPUT = 0x58520020
REC_TYPE_RDTSC = 0x58520021
REC_TYPE_TIME_UPDATE = 0x58520022
REC_TYPE_DMA = 0x58520030
REC_TYPE_DIGEST = 0xD8520040  # REC_OPTIONAL | 0x58520040
REC_TYPE_END_FRAMES = 0xD8520041  # REC_OPTIONAL | 0x58520041
REC_TYPE_END_REGISTERS = 0xD8520042  # REC_OPTIONAL | 0x58520042

rec_type_to_str = {
    REC_TYPE_TRACE_HEADER: "trace_header",
    REC_TYPE_VCPU_STATE: "vcpu_state",
    REC_TYPE_END_OF_TRACE: "end_of_trace",
    REC_TYPE_START_FRAMES: "start_frames",
    REC_TYPE_XEN_FRAME: "xen_frame",
    REC_TYPE_START_CONTENTS: "start_contents",
    REC_TYPE_CREW_EVENT: "crew_event",
    REC_TYPE_CONSTRAINT: "constraint",
    REC_TYPE_CREW_PLACE: "crew_place",
    REC_TYPE_REPLAY_WAIT: "replay_wait",
    REC_TYPE_ASYNC_INPUT: "async_input",
    REC_TYPE_RDTSC: "rdtsc",
    REC_TYPE_TIME_UPDATE: "time_update",
    REC_TYPE_DMA: "dma",
    REC_TYPE_DIGEST: "digest",
    REC_TYPE_END_FRAMES: "end_frames",
    REC_TYPE_END_REGISTERS: "end_registers",
}


def type_name(rtype: int) -> str:
    """The name of a record type, or its hex number when this revision does not know it."""
    name = rec_type_to_str.get(rtype)
    if name is not None:
        return name
    kind = "optional" if rtype & REC_OPTIONAL else "mandatory"
    return f"{rtype:#010x} (unknown {kind})"


def well_formed(rtype: int) -> bool:
    """Whether a type number carries the ident every record type has."""
    return rtype & REC_TYPE_IDENT_MASK == REC_TYPE_IDENT
