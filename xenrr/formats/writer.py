"""The streaming trace writer (trace-format.md, "Writing and on-disk states").

Records are framed straight into one buffer per stream; a stream's buffer
becomes a chunk when it is full (Durability.chunk_bytes) or when its oldest
record has waited Durability.flush_seconds. Every chunk reaches the kernel
with one write(2), so a recorder killed at any moment leaves whole chunks
plus at most one incomplete chunk at the end, which a reader recovers (see
reader.py). fsync follows its own size and time policy. The file is created
0600 (it holds guest memory) as NAME.partial with O_EXCL and renamed to NAME
only after the footer is written and synced.

The writer does not run a timer thread: a recorder that may sit idle calls
tick() from its wait loop, so the time policy holds without a lock on the
hot path.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import UsageError
from xenrr.formats.enums import EndReason
from xenrr.formats.errors import RecordError, TraceWriteError
from xenrr.formats.fileformat import (INDEX_ENTRY_STRUCT, MAX_CHUNK_RAW, encode_chunk,
                                      encode_footer, file_header)
from xenrr.formats.records import EndOfTrace, TraceHeader

PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class Durability:
    """When buffered records become a chunk and when chunks are synced to disk."""

    chunk_bytes: int = 1 << 20          # cut a stream's chunk at this many raw bytes
    flush_seconds: float = 1.0          # ...or when its oldest record is this old
    fsync_bytes: int | None = 16 << 20  # fsync once this much was written unsynced (0: every chunk)
    fsync_seconds: float | None = 5.0   # ...or when the oldest unsynced chunk is this old

    def __post_init__(self):
        if not 64 <= self.chunk_bytes <= MAX_CHUNK_RAW:
            raise UsageError(f"chunk size must be 64 to {MAX_CHUNK_RAW} bytes, got {self.chunk_bytes}")


class _Stream:
    """Records of one stream waiting to become a chunk."""

    __slots__ = ("id", "buf", "used", "records")

    def __init__(self, stream_id: int, size: int):
        self.id = stream_id
        self.buf = bytearray(size)
        self.used = 0
        self.records = 0


class TraceWriter:
    """Write a trace: TraceWriter(path, header=TraceHeader(...)), write(record), close()."""

    def __init__(self, path, header: TraceHeader, durability: Durability = Durability(),
                 *, clock=time.monotonic):
        if not isinstance(header, TraceHeader):
            raise UsageError(f"a trace starts with a TraceHeader, got {type(header).__name__}")
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.durability = durability
        self._chunk_bytes = durability.chunk_bytes
        self._flush_seconds = durability.flush_seconds
        self._clock = clock
        self._streams: dict[int, _Stream] = {}
        self._oldest = None           # clock() of the oldest record not yet in a chunk
        self._unsynced = 0            # bytes written since the last fsync
        self._unsynced_since = None   # clock() of the oldest unsynced chunk
        self._sequence = 0
        self._records = 0             # records in chunks (the buffers count their own)
        self._raw_bytes = 0           # raw bytes in chunks
        self._index = bytearray()
        self._closed = False
        header.CODEC.frame(header)  # an unencodable header fails before the file exists
        self._create()
        self._offset = len(_HEADER)   # file offset of the next chunk
        self.write(header)
        self.flush()
        self._fsync()

    def _create(self) -> None:
        if os.path.lexists(self.path):
            raise TraceWriteError(f"{self.path} exists: a trace is never overwritten")
        try:
            fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise TraceWriteError(f"{self.partial} exists: another recorder is writing it, or a "
                                  "killed one left it (check it with `xenrr log verify`)") from None
        except OSError as e:
            raise TraceWriteError(f"cannot create {self.partial}: {e.strerror}") from None
        self._fd = fd
        self._write_all(_HEADER)
        self._sync_directory()

    def write(self, record, stream: int = 0) -> None:
        """Append a record to a stream; records of one stream stay in the order written."""
        try:
            codec = record.CODEC
        except AttributeError:
            raise UsageError(f"not a trace record: {record!r}") from None
        if codec is _END_CODEC or self._closed:
            raise self._refusal(type(record))
        s = self._streams.get(stream) or self._open_stream(stream)
        size = codec.framed_size
        if 0 < size <= self._chunk_bytes:   # else framed alone, as a variable-size one
            used = s.used
            if used + size > self._chunk_bytes:
                self._cut(s)
                used = 0
            codec.pack_into(s.buf, used, record)
            s.used = used + size
            s.records += 1
        else:
            self._append(s, codec.frame(record))
        now = self._clock()  # _age() inlined: this is the hot path
        if self._oldest is None:
            self._oldest = now
        elif now - self._oldest >= self._flush_seconds:
            self.flush()

    def _refusal(self, cls) -> UsageError:
        if self._closed:
            return UsageError(f"{self.path}: write after close")
        if cls is EndOfTrace:
            return UsageError("the end_of_trace record is written by close()")
        return UsageError(f"write_array takes a fixed-size record class, got {cls.__name__}")

    def _age(self) -> None:
        """Note when the oldest buffered record came; flush all once it is flush_seconds old."""
        now = self._clock()
        if self._oldest is None:
            self._oldest = now
        elif now - self._oldest >= self._flush_seconds:
            self.flush()

    def write_array(self, cls, array, stream: int = 0) -> None:
        """Append many fixed-size records of one class given as a numpy array of cls.LAYOUT.dtype.

        The bulk path for producers that already hold records as arrays (a
        log ring viewed with numpy, a generated test trace): framing is
        vectorised, and the records land in chunks exactly as write() would
        put them.
        """
        if self._closed or cls is EndOfTrace or not getattr(cls.CODEC, "framed_size", 0):
            raise self._refusal(cls)
        rows = cls.CODEC.frame_array(array)
        framed = rows.reshape(-1).data
        size = cls.CODEC.framed_size
        s = self._streams.get(stream) or self._open_stream(stream)
        done = 0
        while done < len(rows):
            room = (self._chunk_bytes - s.used) // size
            if room == 0:
                self._cut(s)
                continue
            take = min(room, len(rows) - done)
            s.buf[s.used:s.used + take * size] = framed[done * size:(done + take) * size]
            s.used += take * size
            s.records += take
            done += take
        self._age()

    def _open_stream(self, stream: int) -> _Stream:
        if not isinstance(stream, int) or not 0 <= stream < 1 << 32:
            raise UsageError(f"a stream id is a u32, got {stream!r}")
        s = self._streams[stream] = _Stream(stream, self._chunk_bytes)
        return s

    def _append(self, s: _Stream, framed: bytes) -> None:
        """Add a framed variable-size record; one larger than a chunk gets a chunk of its own."""
        if len(framed) > MAX_CHUNK_RAW:
            raise RecordError(f"a record of {len(framed)} bytes exceeds the chunk limit of {MAX_CHUNK_RAW}")
        if s.used + len(framed) > self._chunk_bytes:
            self._cut(s)
        if len(framed) > self._chunk_bytes:
            self._emit(s.id, framed, 1)
            return
        s.buf[s.used:s.used + len(framed)] = framed
        s.used += len(framed)
        s.records += 1

    def _cut(self, s: _Stream) -> None:
        if s.used:
            self._emit(s.id, memoryview(s.buf)[:s.used], s.records)
        s.used = 0
        s.records = 0

    def _emit(self, stream: int, raw, records: int) -> None:
        chunk = encode_chunk(self._sequence, stream, raw)
        self._write_all(chunk)
        self._index += INDEX_ENTRY_STRUCT.pack(self._offset, stream, records)
        self._offset += len(chunk)
        self._sequence += 1
        self._records += records
        self._raw_bytes += len(raw)
        self._unsynced += len(chunk)
        if self._unsynced_since is None:
            self._unsynced_since = self._clock()
        self._sync_if_due()

    def flush(self) -> None:
        """Turn every stream's buffered records into chunks now."""
        for s in self._streams.values():
            self._cut(s)
        self._oldest = None

    def tick(self) -> None:
        """Apply the time policy; call it when the recorder is idle."""
        if self._oldest is not None and self._clock() - self._oldest >= self._flush_seconds:
            self.flush()
        self._sync_if_due()

    def _sync_if_due(self) -> None:
        d = self.durability
        if self._unsynced_since is None:
            return
        if ((d.fsync_bytes is not None and self._unsynced >= d.fsync_bytes)
                or (d.fsync_seconds is not None
                    and self._clock() - self._unsynced_since >= d.fsync_seconds)):
            self._fsync()

    def _fsync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as e:
            raise TraceWriteError(f"cannot sync {self.partial}: {e.strerror}") from None
        self._unsynced = 0
        self._unsynced_since = None

    def _write_all(self, data) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            raise TraceWriteError(f"cannot write {self.partial}: {e.strerror}") from None
        view.release()

    def _sync_directory(self) -> None:
        try:
            fd = os.open(self.partial.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise TraceWriteError(f"cannot sync directory {self.partial.parent}: {e.strerror}") from None

    def close(self, reason: EndReason = EndReason.STOPPED) -> None:
        """End the trace: end_of_trace record, footer and index, fsync, rename to NAME."""
        if self._closed:
            return
        self.flush()
        end = EndOfTrace(reason, self._records, self._raw_bytes)  # every record is in a chunk now
        self._append(self._streams[0], end.CODEC.frame(end))
        self.flush()
        self._closed = True
        footer = encode_footer(self._sequence, self._records, self._raw_bytes,
                               self._offset - len(_HEADER), bytes(self._index), self._offset)
        try:
            self._write_all(footer)
            self._fsync()
        finally:
            os.close(self._fd)
        try:
            os.rename(self.partial, self.path)
        except OSError as e:
            raise TraceWriteError(f"cannot rename {self.partial} to {self.path.name}: {e.strerror}") from None
        self._sync_directory()

    def _abandon(self) -> None:
        """Stop writing and leave NAME.partial as it is (after a failure)."""
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
            return
        try:
            self.close(EndReason.ERROR)
        except TraceWriteError:
            self._abandon()


_HEADER = file_header()
_END_CODEC = EndOfTrace.CODEC
