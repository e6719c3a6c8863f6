"""One vCPU's log ring, the channel between Xen and dom0 for a domain under record/replay.

XEN_DOMCTL_RR_OP_get_ring names a ring; XENMEM_resource_rr_ring maps it.
Frame 0 of a ring is struct xen_rr_ring_header; the data area is frames
1..n-1, and the free-running byte offset o lives at data[o % size]. The
producer appends entries back to back, each a struct xen_rr_ring_entry
(seq, type, length) and `length` body bytes padded with zeros to 8, and an
entry may wrap around the end of the data area. The producer makes an
entry's bytes visible before it advances prod; the consumer loads prod,
then the bytes, and stores cons only once the entries are copied out, so
the producer never overwrites bytes not yet taken. (On x86 loads are not
reordered with loads, nor stores with earlier loads, so plain loads and
stores keep that order.) In recording Xen produces and `xenrr record`
consumes (RingReader); in replay `xenrr replay` produces (RingWriter) and
Xen consumes, and only dom0 writes the header's flags (XEN_RR_RING_end).

The header's words are stored whole, through a memoryview cast to the
word's type: struct.pack_into zero-fills the bytes it packs before writing
them, and Xen reading prod or cons in between saw 0 (a replay held its vCPU
for a "malformed" ring now and then).

A ring is never trusted: prod moving backwards or past the data area's
size, an entry running past prod, are protocol errors, reported with the
vCPU and the byte offset. Sequence numbers are not checked here: the
entries of one ring are in seq order, but the merge checks them across
rings anyway, and refuses a number seen twice.
"""

import struct

from xenrr.errors import HypercallError
from xenrr.hypercalls.abi import ffi, lib, packer
from xenrr.hypercalls.privcmd import PAGE

ENTRY = packer("struct xen_rr_ring_entry")   # seq, type, length
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_PROD = ffi.offsetof("struct xen_rr_ring_header", "prod")
_CONS = ffi.offsetof("struct xen_rr_ring_header", "cons")
_SIZE = ffi.offsetof("struct xen_rr_ring_header", "size")
_FLAGS = ffi.offsetof("struct xen_rr_ring_header", "flags")


def _words(view: memoryview, fmt: str) -> memoryview:
    """The header as words of fmt ("Q", "I"): an item stored is one store of that size."""
    return view[:PAGE].cast(fmt)


class RingProtocolError(HypercallError):
    """Xen's side of a log ring broke the ring protocol."""


class _MappedRing:
    """One vCPU's mapped ring: its header's words and its data area, checked against each other."""

    def __init__(self, buffer, vcpu: int):
        self.vcpu = vcpu
        self._view = memoryview(buffer).cast("B")
        self._data = self._view[PAGE:]
        self.size = _U32.unpack_from(self._view, _SIZE)[0]
        if self.size != len(self._data) or self.size % 8:
            raise self._error(f"the header says {self.size} bytes of data, the mapping "
                              f"holds {len(self._data)} (a multiple of 8 is expected)")
        self._u64 = _words(self._view, "Q")

    def _error(self, what: str) -> RingProtocolError:
        return RingProtocolError(f"log ring of vCPU {self.vcpu}: {what}")

    def release(self) -> None:
        """Let go of the mapping, so that it can be unmapped."""
        self._u64.release()
        self._data.release()
        self._view.release()


class RingReader(_MappedRing):
    """Take the entries of one mapped ring: (seq, type, body) tuples, in ring order."""

    def __init__(self, buffer, vcpu: int):
        super().__init__(buffer, vcpu)
        self.cons = _U64.unpack_from(self._view, _CONS)[0]

    def drain(self) -> list[tuple[int, int, bytes]]:
        """Every entry Xen has published, copied out; then cons is advanced past them."""
        prod = _U64.unpack_from(self._view, _PROD)[0]
        cons = self.cons
        if not cons <= prod <= cons + self.size:
            raise self._error(f"prod {prod} is outside [cons {cons}, cons + size {self.size}]")
        entries = []
        while cons < prod:
            if prod - cons < ENTRY.size:
                raise self._error(f"{prod - cons} bytes at offset {cons}: less than an "
                                  "entry header")
            seq, rtype, length = ENTRY.unpack(self._copy(cons, ENTRY.size))
            room = prod - cons - ENTRY.size
            if length > room:
                raise self._error(f"the entry at offset {cons} has a body of {length} bytes, "
                                  f"only {room} are published")
            entries.append((seq, rtype, self._copy(cons + ENTRY.size, length)))
            cons += ENTRY.size + (length + 7) // 8 * 8
        if cons > prod:
            raise self._error(f"the padding of the last entry runs past prod {prod}")
        if entries:
            self._u64[_CONS // 8] = cons
            self.cons = cons
        return entries

    def _copy(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length) of the free-running stream, split if they wrap."""
        start = offset % self.size
        end = start + length
        if end <= self.size:
            return bytes(self._data[start:end])
        return bytes(self._data[start:]) + bytes(self._data[:end - self.size])



class RingWriter(_MappedRing):
    """Append entries to one mapped ring for Xen to take (replay): as many as fit."""

    def __init__(self, buffer, vcpu: int):
        super().__init__(buffer, vcpu)
        self.prod = self.published = _U64.unpack_from(self._view, _PROD)[0]
        self._u32 = _words(self._view, "I")

    def room(self) -> int:
        """Bytes free: what Xen has not taken yet is kept."""
        cons = _U64.unpack_from(self._view, _CONS)[0]
        used = self.prod - cons
        if not 0 <= used <= self.size:
            raise self._error(f"cons {cons} is outside [prod {self.prod} - size {self.size}, "
                              "prod]")
        return self.size - used

    def put(self, seq: int, rtype: int, body: bytes) -> bool:
        """Write one entry if it fits (False if not); published by publish()."""
        entry = ENTRY.pack(seq, rtype, len(body)) + body + bytes(-len(body) % 8)
        if len(entry) > self.room():
            return False
        start = self.prod % self.size
        first = min(len(entry), self.size - start)
        self._data[start:start + first] = entry[:first]
        self._data[:len(entry) - first] = entry[first:]
        self.prod += len(entry)
        return True

    def publish(self) -> None:
        """Let Xen see the entries put so far (their bytes are in place before prod moves)."""
        if self.prod != self.published:
            self._u64[_PROD // 8] = self.prod
            self.published = self.prod

    def end(self) -> None:
        """No entries come after those published."""
        self._u32[_FLAGS // 4] |= lib.XEN_RR_RING_end

    def release(self) -> None:
        self._u32.release()
        super().release()
