"""The allocator policy: chunk-sized buffers freed by one chunk serve the next without page faults."""

import platform
import resource

import lz4.block

from xenrr.formats.allocator import keep_chunk_buffers
from xenrr.formats.fileformat import MAX_CHUNK_RAW


def test_it_applies_where_malloc_is_glibcs():
    assert keep_chunk_buffers() is (platform.libc_ver()[0] == "glibc")


def test_decompressing_chunk_after_chunk_faults_no_fresh_pages():
    if not keep_chunk_buffers():
        return  # nothing to measure without glibc's mallopt
    raw = bytes(range(256)) * (MAX_CHUNK_RAW // 256 // 4)
    block = lz4.block.compress(raw, store_size=False)
    lz4.block.decompress(block, uncompressed_size=len(raw))  # the first one may grow the heap
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        lz4.block.decompress(block, uncompressed_size=len(raw))
    pages = len(raw) // resource.getpagesize()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < pages  # 20 chunks: 40x that without
