"""Record framing inside a chunk (trace-format.md, "Record framing").

A chunk's raw block is a run of records, each a (type u32, length u32)
header then `length` body bytes padded with zeros to a multiple of 8, as in
Xen's migration stream. This is the per-record walk; xenrr.formats.scan has
the vectorised one for bulk statistics.
"""

from collections.abc import Iterator

from xenrr.formats.errors import RecordError, UnknownRecordError
from xenrr.formats.records import BY_TYPE
from xenrr.formats.recordtype import RECORD_HEADER, padded
from xenrr.formats.rectypes import REC_OPTIONAL, well_formed


def walk(block) -> Iterator[tuple[int, int, int]]:
    """(offset, type, length) of each record of a raw block; RecordError where the framing breaks."""
    end = len(block)
    offset = 0
    unpack = RECORD_HEADER.unpack_from
    while offset < end:
        if end - offset < RECORD_HEADER.size:
            raise RecordError(f"record header at +{offset:#x} cut by the end of the block")
        rtype, length = unpack(block, offset)
        if not well_formed(rtype):
            raise RecordError(f"record at +{offset:#x}: {rtype:#010x} is not a record type")
        following = offset + RECORD_HEADER.size + padded(length)
        if following > end:
            raise RecordError(f"record at +{offset:#x} ({length} bytes) runs past the end "
                              f"of the block ({end} bytes)")
        yield offset, rtype, length
        offset = following


def decode(block, types: frozenset[int] | None = None) -> Iterator:
    """The records of a raw block, skipping unknown optional ones (and those not in `types`)."""
    for offset, rtype, length in walk(block):
        cls = BY_TYPE.get(rtype)
        if cls is None:
            if rtype & REC_OPTIONAL:
                continue
            raise UnknownRecordError(f"record at +{offset:#x}: unknown mandatory record "
                                     f"type {rtype:#010x}")
        if types is None or rtype in types:
            yield cls.CODEC.decode(block, offset + RECORD_HEADER.size, length)
