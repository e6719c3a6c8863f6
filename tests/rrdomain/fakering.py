"""Xen's side of a log ring in a bytearray, written exactly as the ABI says (for tests)."""

import struct

from xenrr.formats import records as rec
from xenrr.hypercalls.abi import packer
from xenrr.hypercalls.privcmd import PAGE
from xenrr.rrdomain.rings import ENTRY

HEADER = packer("struct xen_rr_ring_header")   # prod, cons, size, flags


class FakeRing:
    def __init__(self, frames: int = 2):
        self.buffer = bytearray(frames * PAGE)
        self.size = (frames - 1) * PAGE
        HEADER.pack_into(self.buffer, 0, 0, 0, self.size, 0)

    @property
    def prod(self) -> int:
        return HEADER.unpack_from(self.buffer)[0]

    @property
    def cons(self) -> int:
        return HEADER.unpack_from(self.buffer)[1]

    def room(self) -> int:
        return self.size - (self.prod - self.cons)

    def put(self, seq: int, rtype: int, body: bytes) -> None:
        """Append one entry (wrapping at the end of the data area), then publish it."""
        entry = ENTRY.pack(seq, rtype, len(body)) + body + bytes(-len(body) % 8)
        if len(entry) > self.room():
            raise BufferError(f"ring full: {len(entry)} bytes wanted, {self.room()} free")
        prod = self.prod
        for i, byte in enumerate(entry):
            self.buffer[PAGE + (prod + i) % self.size] = byte
        struct.pack_into("<Q", self.buffer, 0, prod + len(entry))

    def put_record(self, seq: int, record) -> None:
        framed = record.CODEC.frame(record)
        self.put(seq, record.TYPE, framed[8:8 + record.CODEC.size])

    def set_prod(self, prod: int) -> None:
        struct.pack_into("<Q", self.buffer, 0, prod)


def crew_event(vcpu: int, gfn: int, count: int, old: int = 0, new: int = 2, rip: int = 0x1000):
    return rec.CrewEvent(vcpu=vcpu, old_state=old, new_state=new, gfn=gfn,
                         position=rec.Position(count, rip))
