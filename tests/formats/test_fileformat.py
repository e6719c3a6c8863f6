"""The structures around the records: exact bytes of header, chunk, footer and trailer."""

import os
import zlib

import lz4.block

from xenrr.formats.fileformat import (CHUNK_HEADER_STRUCT, FILE_HEADER_STRUCT, MAX_CHUNK_RAW,
                                      chunk_checksum, compressed_bound, encode_chunk,
                                      encode_footer, file_header)


def test_file_header_bytes():
    assert file_header() == bytes.fromhex(
        "ffffffffffffffff"  # marker
        "58525254"          # ident "XRRT" (big-endian)
        "00000008"          # version 8
        "00000000"          # options: little-endian contents
        "00000000"          # reserved
    )
    assert FILE_HEADER_STRUCT.size == 24


def test_chunk_bytes():
    raw = bytes(range(16)) * 4
    chunk = encode_chunk(sequence=3, stream=2, raw=raw)
    block = lz4.block.compress(raw, store_size=False)
    head = (
        b"XRRchunk"                            # magic
        + (3).to_bytes(8, "little")            # sequence 3
        + (2).to_bytes(4, "little")            # stream 2
        + (64).to_bytes(4, "little")           # raw_length 64
        + len(block).to_bytes(4, "little")     # compressed_length
    )
    checksum = chunk_checksum(head, block)
    assert chunk == head + checksum.to_bytes(4, "little") + block  # checksum, then the block
    assert CHUNK_HEADER_STRUCT.size == 32
    assert lz4.block.decompress(chunk[32:], uncompressed_size=64) == raw


def test_footer_bytes():
    index = (0x18).to_bytes(8, "little") + (0).to_bytes(4, "little") + (2).to_bytes(4, "little")
    footer = encode_footer(chunks=1, records=2, raw_bytes=112, stored_bytes=80, index=index,
                           footer_offset=0x68)
    body = (
        b"XRRindex"                   # magic
        + (1).to_bytes(8, "little")   # chunks
        + (2).to_bytes(8, "little")   # records
        + (112).to_bytes(8, "little")  # raw_bytes
        + (80).to_bytes(8, "little")  # stored_bytes
        + index                       # one entry: offset 0x18, stream 0, 2 records
    )
    assert footer == body + (
        (0x68).to_bytes(8, "little")          # trailer: footer_offset
        + zlib.crc32(body).to_bytes(4, "little")  # checksum of footer and index
        + bytes(4)                             # reserved
        + b"XRRclose"                          # magic
    )


def test_compressed_bound_covers_incompressible_data():
    raw = os.urandom(MAX_CHUNK_RAW // 64)
    assert len(lz4.block.compress(raw, store_size=False)) <= compressed_bound(len(raw))
