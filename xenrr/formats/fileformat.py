"""The file around the records: header, chunks, footer (trace-format.md, "File layout").

One construct definition per structure, as for the records; the readers and
the writer use the struct formats derived from them. A chunk is a header
plus one LZ4 block holding whole records of one stream; its checksum covers
the header and the block, so a reader can tell a real chunk from bytes that
happen to start with the magic when it resynchronises.
"""

import struct
import zlib

import lz4.block
from construct import Int32ub, Int32ul, Int64ub, Int64ul, Padding, Struct

from xenrr.formats.derive import layout_of, named

REVISION = 8            # what writers write and readers read; events logged at positions from 8
FILE_MARKER = 0xFFFFFFFFFFFFFFFF
FILE_IDENT = 0x58525254  # "XRRT"
OPT_BIG_ENDIAN = 0x1
CHUNK_MAGIC = int.from_bytes(b"XRRchunk", "little")
FOOTER_MAGIC = int.from_bytes(b"XRRindex", "little")
TRAILER_MAGIC = int.from_bytes(b"XRRclose", "little")
MAX_CHUNK_RAW = 1 << 24  # a chunk's records never exceed 16 MiB: the reader's memory bound

FILE_HEADER = named("FileHeader", Struct(
    "marker" / Int64ub * "0xffffffffffffffff",
    "ident" / Int32ub * "0x58525254, \"XRRT\" in ASCII",
    "version" / Int32ub * "format revision, 7",
    "options" / Int32ub * "bit 0: everything after this header is big-endian (revisions 1-7: "
                          "always 0); bits 1-31 zero",
    "reserved" / Padding(4),
))

CHUNK_HEADER = named("ChunkHeader", Struct(
    "magic" / Int64ul * "\"XRRchunk\" in ASCII",
    "sequence" / Int64ul * "0 for the file's first chunk, one more for each next one",
    "stream" / Int32ul * "stream the records belong to",
    "raw_length" / Int32ul * "bytes of records once decompressed, at most 16 MiB",
    "compressed_length" / Int32ul * "bytes of the LZ4 block that follows",
    "checksum" / Int32ul * "CRC-32 of header bytes 0-27 followed by the LZ4 block",
))

FOOTER = named("Footer", Struct(
    "magic" / Int64ul * "\"XRRindex\" in ASCII",
    "chunks" / Int64ul * "number of chunks (and of index entries)",
    "records" / Int64ul * "number of records in all chunks",
    "raw_bytes" / Int64ul * "sum of the chunks' raw_length",
    "stored_bytes" / Int64ul * "sum of the chunks' sizes in the file, headers included",
))

INDEX_ENTRY = named("IndexEntry", Struct(
    "offset" / Int64ul * "file offset of the chunk header",
    "stream" / Int32ul * "the chunk's stream",
    "records" / Int32ul * "number of records in the chunk",
))

TRAILER = named("Trailer", Struct(
    "footer_offset" / Int64ul * "file offset of the footer",
    "checksum" / Int32ul * "CRC-32 of the footer and index",
    "reserved" / Padding(4),
    "magic" / Int64ul * "\"XRRclose\" in ASCII",
))


def _struct(definition) -> struct.Struct:
    return struct.Struct(layout_of(definition).fmt)


FILE_HEADER_STRUCT = _struct(FILE_HEADER)
CHUNK_HEADER_STRUCT = _struct(CHUNK_HEADER)
FOOTER_STRUCT = _struct(FOOTER)
INDEX_ENTRY_STRUCT = _struct(INDEX_ENTRY)
INDEX_LAYOUT = layout_of(INDEX_ENTRY)  # its .dtype for bulk reads of the index
TRAILER_STRUCT = _struct(TRAILER)
CHUNK_CHECKED = CHUNK_HEADER_STRUCT.size - 4  # header bytes the checksum covers


def file_header() -> bytes:
    """The header a writer puts at offset 0."""
    return FILE_HEADER_STRUCT.pack(FILE_MARKER, FILE_IDENT, REVISION, 0)


def compressed_bound(raw_length: int) -> int:
    """The largest LZ4 block raw_length bytes can become (LZ4_COMPRESSBOUND)."""
    return raw_length + raw_length // 255 + 16


def encode_chunk(sequence: int, stream: int, raw) -> bytes:
    """A chunk holding the framed records `raw` (a bytes-like object)."""
    block = lz4.block.compress(raw, store_size=False)
    head = CHUNK_HEADER_STRUCT.pack(CHUNK_MAGIC, sequence, stream, len(raw), len(block), 0)
    return head[:CHUNK_CHECKED] + chunk_checksum(head, block).to_bytes(4, "little") + block


def chunk_checksum(head: bytes, block) -> int:
    """The checksum a chunk with this header and block should carry."""
    return zlib.crc32(block, zlib.crc32(head[:CHUNK_CHECKED]))


def encode_footer(chunks: int, records: int, raw_bytes: int, stored_bytes: int,
                  index: bytes, footer_offset: int) -> bytes:
    """The footer, index and trailer a clean close appends at footer_offset."""
    body = FOOTER_STRUCT.pack(FOOTER_MAGIC, chunks, records, raw_bytes, stored_bytes) + index
    return body + TRAILER_STRUCT.pack(footer_offset, zlib.crc32(body), TRAILER_MAGIC)
