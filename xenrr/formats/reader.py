"""The crash-tolerant streaming reader (trace-format.md, "Reading a damaged trace").

Chunks are read a few at a time, whatever the file's size: the one the
caller has and up to 2 MiB of records ahead, at least one chunk (at most
MAX_CHUNK_RAW bytes of records each). A chunk whose header, checksum or block
is bad is skipped: the reader searches for the next chunk magic and accepts
the first chunk there whose checksum holds and whose sequence number comes
after the last good one. Everything skipped is reported in `losses` as a byte
range and the chunk sequence numbers that are missing. Only TraceError
subclasses leave this module.

A worker thread examines the next chunks (read, checksum, decompression)
while the caller works on one (prefetch.py); the sequence rule and the
resynchronisation stay in the caller's thread, in file order.
"""

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import lz4.block

from xenrr.errors import TraceError, UsageError
from xenrr.formats import framing
from xenrr.formats.allocator import keep_chunk_buffers
from xenrr.formats.errors import NotATraceError, RecordError, TraceDamaged
from xenrr.formats.fileformat import (CHUNK_HEADER_STRUCT, CHUNK_MAGIC, FILE_HEADER_STRUCT,
                                      FILE_IDENT, FILE_MARKER, FOOTER_MAGIC, FOOTER_STRUCT,
                                      INDEX_ENTRY_STRUCT, INDEX_LAYOUT, MAX_CHUNK_RAW,
                                      OPT_BIG_ENDIAN, REVISION, TRAILER_MAGIC, TRAILER_STRUCT,
                                      chunk_checksum, compressed_bound)
from xenrr.formats.prefetch import Prefetcher
from xenrr.formats.records import TraceHeader
from xenrr.formats.writer import PARTIAL_SUFFIX

_MAGIC_BYTES = CHUNK_MAGIC.to_bytes(8, "little")
_FOOTER_BYTES = FOOTER_MAGIC.to_bytes(8, "little")
_SEARCH_WINDOW = 1 << 20
_AHEAD = 2 << 20  # raw bytes examined ahead of the chunk the caller has (at least one chunk)


def default_workers() -> int:
    """Threads that examine chunks ahead: one beside the caller's (two measured slower on two
    CPUs: three threads then share them and the GIL), none on one CPU, where it could only compete."""
    return 1 if len(os.sched_getaffinity(0)) > 1 else 0


@dataclass(frozen=True)
class Chunk:
    """A chunk that passed its checks, with its records decompressed in `data`."""

    sequence: int
    stream: int
    offset: int
    size: int     # bytes in the file, header included
    data: bytes   # the raw block: framed records

    @property
    def end(self) -> int:
        return self.offset + self.size


class _Found(NamedTuple):
    """The chunk at an offset as far as the file alone tells: everything but the sequence rule.

    sequence is the header's when the chunk passed its checksum (the sequence
    rule comes next, before decompression's verdict), else None.
    """

    sequence: int | None
    chunk: Chunk | None
    reason: str


@dataclass(frozen=True)
class Loss:
    """A damaged part of the file: bytes start..end, why, and which chunks it held."""

    start: int
    end: int
    reason: str
    after: int                # sequence of the last good chunk before it (-1: none)
    before: int | None        # sequence of the next good chunk (None: unknown)

    @property
    def chunks(self) -> str:
        """The missing sequence numbers in words ("chunks 3-5 were")."""
        first = self.after + 1
        if self.before is None:
            return f"chunks from {first} on, if any, were"
        if self.before <= first:
            return "no whole chunk was"
        return f"chunk {first} was" if self.before == first + 1 else f"chunks {first}-{self.before - 1} were"

    @property
    def span(self) -> str:
        """Where, in words."""
        if self.end > self.start:
            return f"bytes {self.start:#x}-{self.end:#x} ({self.end - self.start} bytes)"
        return f"at {self.start:#x}"

    def __str__(self):
        return f"{self.span}: {self.reason}; {self.chunks} lost"


@dataclass(frozen=True)
class Footer:
    """The totals a clean close wrote (spec "Footer and index")."""

    offset: int
    chunks: int
    records: int
    raw_bytes: int
    stored_bytes: int


class TraceReader:
    """Read a trace: TraceReader(path).records(), chunks(), header, footer, losses.

    workers threads examine the next chunks while the caller works on one
    (xenrr.formats.prefetch); 0 reads every chunk in the caller's thread.
    """

    def __init__(self, path, workers: int | None = None):
        self.path = Path(path)
        if workers is not None and not (isinstance(workers, int) and workers >= 0):
            raise UsageError(f"workers is a number of threads, 0 or more, got {workers!r}")
        self.workers = default_workers() if workers is None else workers
        keep_chunk_buffers()
        self._prefetchers: set[Prefetcher] = set()
        self._fd = None
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            self.size = os.fstat(self._fd).st_size
        except OSError as e:
            raise TraceError(f"cannot read {self.path}: {e.strerror}{self._partial_hint()}") from None
        self.losses: list[Loss] = []
        self._footer_losses: list[Loss] = []
        try:
            self._check_header()
            self._data_end = self.size
            self.footer = self._read_footer()
        except TraceError:
            self.close()
            raise

    def _partial_hint(self) -> str:
        partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        if not self.path.exists() and partial.exists():
            return f" ({partial.name} exists: the recorder did not close the trace)"
        return ""

    def _pread(self, offset: int, length: int) -> bytes:
        if self._fd is None:
            raise TraceError(f"{self.path}: read after close")
        try:
            return os.pread(self._fd, length, offset)
        except OSError as e:
            raise TraceError(f"cannot read {self.path}: {e.strerror}") from None

    def _check_header(self) -> None:
        head = self._pread(0, FILE_HEADER_STRUCT.size)
        if len(head) < FILE_HEADER_STRUCT.size:
            raise NotATraceError(f"{self.path}: not a xenrr trace ({len(head)} bytes, "
                                 f"shorter than a file header)")
        marker, ident, version, options = FILE_HEADER_STRUCT.unpack(head)
        if marker != FILE_MARKER or ident != FILE_IDENT:
            raise NotATraceError(f"{self.path}: not a xenrr trace (expected marker {FILE_MARKER:#x} "
                                 f"and ident {FILE_IDENT:#x}, got {marker:#x} and {ident:#x})")
        if 1 <= version < REVISION:
            raise NotATraceError(f"{self.path}: trace format revision {version} predates what "
                                 f"replay needs (revision {REVISION}): the trace must be "
                                 "recorded again")
        if version != REVISION:
            raise NotATraceError(f"{self.path}: trace format revision {version} is not supported "
                                 f"(expected {REVISION})")
        if options & OPT_BIG_ENDIAN:
            raise NotATraceError(f"{self.path}: big-endian traces are not supported")
        if options or head[20:24] != bytes(4):
            raise NotATraceError(f"{self.path}: unknown options {options:#x} or reserved bytes "
                                 f"{head[20:24].hex()} set in the file header")
        self.version = version

    def _read_footer(self) -> Footer | None:
        """The footer if the trailer is there and sound; sets where the chunks end."""
        trailer_at = self.size - TRAILER_STRUCT.size
        if trailer_at < FILE_HEADER_STRUCT.size:
            return None
        trailer = self._pread(trailer_at, TRAILER_STRUCT.size)
        footer_offset, checksum, magic = TRAILER_STRUCT.unpack(trailer)
        if magic != TRAILER_MAGIC:
            return None
        self._data_end = trailer_at
        if trailer[12:16] != bytes(4):
            return self._footer_damaged(trailer_at, f"trailer reserved bytes expected zero, "
                                                    f"got {trailer[12:16].hex()}")
        fits = FILE_HEADER_STRUCT.size <= footer_offset <= trailer_at - FOOTER_STRUCT.size
        head = self._pread(footer_offset, FOOTER_STRUCT.size) if fits else b""
        if not fits or FOOTER_STRUCT.unpack(head)[0] != FOOTER_MAGIC:
            return self._footer_damaged(trailer_at, f"trailer points to {footer_offset:#x}, "
                                                    "where no footer is")
        self._data_end = footer_offset
        _, chunks, records, raw, stored = FOOTER_STRUCT.unpack(head)
        index_end = footer_offset + FOOTER_STRUCT.size + chunks * INDEX_ENTRY_STRUCT.size
        if index_end != trailer_at:
            return self._footer_damaged(footer_offset, f"footer expected an index of {chunks} "
                                                       f"entries to end at {trailer_at:#x}, "
                                                       f"got {index_end:#x}")
        actual = self._crc(footer_offset, trailer_at)
        if actual != checksum:
            return self._footer_damaged(footer_offset, f"footer checksum expected {checksum:#010x}, "
                                                       f"got {actual:#010x}")
        return Footer(footer_offset, chunks, records, raw, stored)

    def _footer_damaged(self, start: int, reason: str) -> None:
        self._footer_losses.append(Loss(start, self.size, reason, -1, 0))
        return None

    def _crc(self, start: int, end: int) -> int:
        crc = 0
        for offset in range(start, end, _SEARCH_WINDOW):
            crc = zlib.crc32(self._pread(offset, min(_SEARCH_WINDOW, end - offset)), crc)
        return crc

    @property
    def complete(self) -> bool:
        """Whether the trace was closed cleanly (its footer is there and intact)."""
        return self.footer is not None

    def index(self) -> Iterator:
        """The footer's index, as numpy arrays of IndexEntry, a bounded slice at a time."""
        if self.footer is None:
            return
        import numpy as np  # noqa: PLC0415 - loaded when needed (derive.Layout.dtype)
        dtype = INDEX_LAYOUT.dtype
        per_read = _SEARCH_WINDOW // dtype.itemsize
        start = self.footer.offset + FOOTER_STRUCT.size
        for first in range(0, self.footer.chunks, per_read):
            count = min(per_read, self.footer.chunks - first)
            data = self._pread(start + first * dtype.itemsize, count * dtype.itemsize)
            yield np.frombuffer(data, dtype=dtype)

    def chunks(self) -> Iterator[Chunk]:
        """Every good chunk in file order; what is skipped goes to `losses`."""
        self.losses = list(self._footer_losses)
        pos, end = FILE_HEADER_STRUCT.size, self._data_end
        last, bad = -1, None
        ahead = self._prefetcher(end)
        try:
            while pos < end:
                chunk, reason = self._accept(ahead.at(pos) if ahead else self._examine(pos, end), last)
                if chunk is None:
                    bad = bad or (pos, reason)
                    pos = self._next_magic(pos + 1, end)
                    continue
                if bad is not None or chunk.sequence != last + 1:
                    start, why = bad or (pos, "chunks missing")
                    self.losses.append(Loss(start, pos, why, last, chunk.sequence))
                    bad = None
                last = chunk.sequence
                yield chunk
                pos = chunk.end
        finally:
            if ahead is not None:
                self._prefetchers.discard(ahead)
                ahead.close()
        expected = self.footer.chunks if self.footer else None
        if bad is not None:
            self.losses.append(Loss(bad[0], end, bad[1], last, expected))
        elif expected is not None and last + 1 != expected:
            self.losses.append(Loss(end, end, "chunks missing at the end", last, expected))

    def _prefetcher(self, end: int) -> Prefetcher | None:
        if not self.workers:
            return None
        ahead = Prefetcher(lambda pos: self._examine(pos, end), lambda pos: self._peek(pos, end),
                           self.workers, _AHEAD)
        self._prefetchers.add(ahead)
        return ahead

    def _chunk_at(self, pos: int, end: int, last: int) -> tuple[Chunk | None, str]:
        """The chunk at pos if it is whole and sound, else None and why not."""
        return self._accept(self._examine(pos, end), last)

    @staticmethod
    def _accept(found: _Found, last: int) -> tuple[Chunk | None, str]:
        """The sequence rule, the one check that depends on the chunks before (in its place)."""
        if found.sequence is not None and found.sequence <= last:
            return None, f"chunk {found.sequence} out of order after chunk {last}"
        return found.chunk, found.reason

    def _peek(self, pos: int, end: int) -> tuple[int, int] | None:
        """(raw bytes, where the next chunk starts) from the chunk header at pos alone, if plausible."""
        if pos + CHUNK_HEADER_STRUCT.size > end:
            return None
        magic, _, _, raw_length, stored_length, _ = CHUNK_HEADER_STRUCT.unpack(
            self._pread(pos, CHUNK_HEADER_STRUCT.size))
        if magic != CHUNK_MAGIC or raw_length > MAX_CHUNK_RAW:
            return None
        return raw_length, pos + CHUNK_HEADER_STRUCT.size + stored_length

    def _examine(self, pos: int, end: int) -> _Found:
        """The chunk at pos as far as the file alone tells (safe to run in a worker thread)."""
        head = self._pread(pos, CHUNK_HEADER_STRUCT.size)[:end - pos]
        if len(head) >= 4 and _FOOTER_BYTES.startswith(head[:8]):
            return _Found(None, None, "a footer where a chunk was expected (the writer stopped "
                                      "while closing, or the trailer is damaged)")
        if len(head) < CHUNK_HEADER_STRUCT.size:
            if _MAGIC_BYTES.startswith(head[:8]):
                return _Found(None, None, f"incomplete chunk header ({len(head)} of "
                                          f"{CHUNK_HEADER_STRUCT.size} bytes)")
            return _Found(None, None, f"{len(head)} stray bytes")
        magic, sequence, stream, raw_length, stored_length, checksum = CHUNK_HEADER_STRUCT.unpack(head)
        if magic != CHUNK_MAGIC:
            return _Found(None, None, f"expected chunk magic {CHUNK_MAGIC:#x}, got {magic:#x}")
        if raw_length > MAX_CHUNK_RAW or stored_length > compressed_bound(raw_length):
            return _Found(None, None, f"chunk {sequence}: implausible lengths (raw {raw_length}, "
                                      f"compressed {stored_length})")
        size = CHUNK_HEADER_STRUCT.size + stored_length
        if pos + size > end:
            return _Found(None, None, f"chunk {sequence} incomplete ({end - pos} of {size} bytes)")
        block = self._pread(pos + CHUNK_HEADER_STRUCT.size, stored_length)
        actual = chunk_checksum(head, block)
        if actual != checksum:
            return _Found(None, None, f"chunk {sequence}: checksum expected {checksum:#010x}, "
                                      f"got {actual:#010x}")
        try:
            data = lz4.block.decompress(block, uncompressed_size=raw_length)
        except lz4.block.LZ4BlockError:
            return _Found(sequence, None, f"chunk {sequence}: LZ4 block does not decompress "
                                          f"to {raw_length} bytes")
        if len(data) != raw_length:
            return _Found(sequence, None, f"chunk {sequence}: expected {raw_length} raw bytes, "
                                          f"got {len(data)}")
        return _Found(sequence, Chunk(sequence, stream, pos, size, data), "")

    def _next_magic(self, start: int, end: int) -> int:
        """Offset of the next chunk magic at or after start, or end."""
        pos = start
        while pos < end:
            window = self._pread(pos, min(_SEARCH_WINDOW, end - pos))
            found = window.find(_MAGIC_BYTES)
            if found >= 0:
                return pos + found
            pos += max(1, len(window) - len(_MAGIC_BYTES) + 1)
        return end

    def records(self, types: frozenset[int] | None = None) -> Iterator:
        """Every record of the good chunks in file order (of `types` only, if given)."""
        for chunk in self.chunks():
            try:
                yield from framing.decode(chunk.data, types)
            except RecordError as e:
                raise type(e)(f"{self.path}: chunk {chunk.sequence} at {chunk.offset:#x}: {e}") from None

    @cached_property
    def header(self) -> TraceHeader | None:
        """The trace_header record, or None when the first chunk is lost."""
        chunk, _ = self._chunk_at(FILE_HEADER_STRUCT.size, self._data_end, -1)
        if chunk is None or chunk.sequence != 0:
            return None
        first = next(framing.decode(chunk.data), None)
        return first if isinstance(first, TraceHeader) else None

    def damage(self) -> TraceDamaged | None:
        """The one-line error for what is wrong after a pass, or None for an intact, closed trace.

        Losses are those of the last chunks() pass (footer damage is known at open).
        """
        notes = []
        if self.losses:
            more = len(self.losses) - 1
            notes.append(f"damaged: {self.losses[0]}"
                         + (f" (and {more} more damaged region{'s' * (more > 1)})" if more else ""))
        if not self.complete and not self._footer_losses:
            notes.append("not closed: no footer (the recorder did not finish)")
        return TraceDamaged(f"{self.path}: " + "; ".join(notes)) if notes else None

    def close(self) -> None:
        """Release the file (after the workers of a pass still under way stopped reading it)."""
        for ahead in list(self._prefetchers):
            ahead.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
