"""Keep freed chunk-sized buffers in the process instead of handing them back to the kernel.

Reading a chunk allocates buffers of up to MAX_CHUNK_RAW bytes (the block
read, LZ4's output and its staging copy in python-lz4, numpy's temporaries)
and frees them before the next chunk. glibc's malloc serves such sizes with
mmap at first and trims the heap top when a free leaves enough of it, so
depending on the heap's history every chunk's buffers are fresh pages that
the kernel must fault in and zero: measured here, 600,000 minor faults per
GiB of records, and LZ4 decompression at 1.2 s/GiB instead of 0.32 s/GiB.
Fixed thresholds above any chunk's buffers make the pages of one chunk serve
the next. One arena for all threads lets a buffer freed by one thread serve
another: with an arena per thread, each keeps its own chunks' worth
(measured over 16 MiB chunks, peak RSS of `xenrr log stats`: 154 MB instead
of 137 MB with the prefetch worker, 192 MB instead of 146 MB with two). The
policy is process-wide, so it is applied once, by whatever reads a trace;
what it keeps is what the busiest moment of a pass used.
"""

import ctypes
from functools import cache

from xenrr.formats.fileformat import MAX_CHUNK_RAW

_M_TRIM_THRESHOLD = -1   # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 2 * MAX_CHUNK_RAW  # glibc's largest (32 MiB on 64-bit): above any chunk buffer
TRIM_THRESHOLD = 4 * MAX_CHUNK_RAW


@cache
def keep_chunk_buffers() -> bool:
    """Apply the policy (once); False where the C library has no glibc mallopt."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    return all([mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD), mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                mallopt(_M_ARENA_MAX, 1)])
