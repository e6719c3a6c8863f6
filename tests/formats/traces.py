"""Small traces for the tests: one record of every type, and a writer for them."""

from xenrr.formats import (AsyncInput, Constraint, CrewEvent, Digest, Dma, Durability, Position,
                           Rdtsc, TimeUpdate, TraceHeader, TraceWriter, VcpuState)
from xenrr.formats import framing
from xenrr.formats.enums import (ContextFormat, CrewState, DmaKind, GuestType, InputKind,
                                 PositionMode)
from xenrr.formats.fileformat import (CHUNK_HEADER_STRUCT, FILE_HEADER_STRUCT, INDEX_ENTRY_STRUCT,
                                      encode_chunk, encode_footer, file_header)

HEADER = TraceHeader(domid=7, vcpus=2, guest_type=GuestType.PV,
                     position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1,
                     start_time=1_700_000_000_000_000_000, name="guest",
                     xen_version="4.17.5", config="name = 'guest'\nvcpus = 2\n")

RIP = 0xFFFFFFFF81000000


def one_of_each() -> list:
    """A record of every type but trace_header and end_of_trace, each valid for HEADER."""
    return [
        VcpuState(vcpu=0, format=ContextFormat.X86_64_PV, context=b"\x01" * 24),
        CrewEvent(vcpu=1, old_state=CrewState.CR, new_state=CrewState.EW, gfn=0x1234,
                  position=Position(10, RIP)),
        Constraint(vcpu=0, after_vcpu=1, position=Position(11, RIP + 4),
                   after_position=Position(10, RIP)),
        AsyncInput(vcpu=0, kind=InputKind.UPCALL_PENDING, length=2, gfn=0x99, offset=0x40,
                   position=Position(12, RIP + 8), data=b"\x01\x00"),
        Rdtsc(vcpu=1, aux=0, tsc=0x123456789, position=Position(13, RIP + 12)),
        TimeUpdate(vcpu=0, version=4, tsc_timestamp=0x1000, system_time=5_000_000,
                   tsc_to_system_mul=0x80000000, tsc_shift=-1, flags=0,
                   position=Position(14, RIP + 16)),
        Dma(actor=0xFFFF0000, kind=DmaKind.GRANT_COPY, offset=0x100, length=5, gfn=0x55,
            position=Position(1, 0), data=b"hello"),
        Digest(vcpu=1, flags=1, reg_digest=0xABCDEF, mem_digest=0x123, position=Position(15, RIP)),
    ]


def crew_events(count: int, vcpus: int = 2) -> list:
    """count CREW events, numbered by position.count, over vcpus vCPUs."""
    return [CrewEvent(vcpu=i % vcpus, old_state=CrewState.CR, new_state=CrewState.EW,
                      gfn=0x1000 + i, position=Position(i, RIP + i)) for i in range(count)]


def write_trace(path, records, durability=Durability(), streams=1, header=HEADER) -> list:
    """Write records round-robin over streams, close, and return all records as read back expects."""
    with TraceWriter(path, header, durability) as w:
        for i, record in enumerate(records):
            w.write(record, stream=i % streams)
    return [header, *records]


def framed(*records) -> bytes:
    """Records framed back to back, as a chunk's raw block holds them."""
    return b"".join(r.CODEC.frame(r) for r in records)


def assemble(blocks, close: bool = True) -> bytes:
    """A trace file built by hand from raw blocks (stream, bytes), one chunk each.

    With close, the footer, index and trailer follow; the record count in the
    index is that of framing.walk, so a test can then damage any part on purpose.
    """
    out = bytearray(file_header())
    index = bytearray()
    records = raw = 0
    for sequence, (stream, block) in enumerate(blocks):
        if close:  # an unclosed file may hold framing a test breaks on purpose
            count = sum(1 for _ in framing.walk(block))
            index += INDEX_ENTRY_STRUCT.pack(len(out), stream, count)
            records += count
            raw += len(block)
        out += encode_chunk(sequence, stream, block)
    if close:
        out += encode_footer(len(blocks), records, raw, len(out) - len(file_header()),
                             bytes(index), len(out))
    return bytes(out)


def chunk_offsets(data: bytes) -> list[int]:
    """Where each chunk of a trace file's bytes starts, following the chunk headers."""
    offsets, pos = [], FILE_HEADER_STRUCT.size
    while data[pos:pos + 8] == b"XRRchunk":
        offsets.append(pos)
        pos += CHUNK_HEADER_STRUCT.size + CHUNK_HEADER_STRUCT.unpack_from(data, pos)[4]
    return offsets
