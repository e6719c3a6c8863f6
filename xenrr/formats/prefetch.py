"""Chunks examined ahead in worker threads while the reader's caller works on the current one.

Reading a chunk is pread, CRC-32 and LZ4 decompression, all of which release
the GIL; counting its records (xenrr.formats.scan) is numpy, which mostly
does too. With a second core the two overlap, which is what lets
`xenrr log stats` keep up with plain LZ4 (bench/formats.py).

The reader stays sequential (trace-format.md, "Reading a damaged trace"):
it asks for the chunk at each offset in file order and applies the rules
that depend on the chunks before. What runs ahead is only what depends on
the file alone. The offsets ahead are predicted from each chunk header's
lengths, which is where the next chunk starts when this one is good; after
damage the reader asks for another offset, and the predictions are dropped.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


class Prefetcher(Generic[T]):
    """examine(offset) for the offset asked for, and ahead of it for the offsets predicted next.

    peek(offset) reads the chunk header at offset alone: (raw bytes of the
    chunk, offset of the chunk after it), or None when the header cannot
    say (damage, the end of the chunks). Chunks ahead are examined up to
    `ahead` raw bytes, and at least one whatever its size, which bounds
    memory (MAX_CHUNK_RAW each).
    """

    def __init__(self, examine: Callable[[int], T], peek: Callable[[int], tuple[int, int] | None],
                 workers: int, ahead: int):
        self._examine = examine
        self._peek = peek
        self._ahead = ahead
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="xenrr-read")
        self._pending: deque[tuple[int, int, Future]] = deque()  # (offset, raw bytes, result)
        self._pending_raw = 0
        self._next: int | None = None        # the offset predicted after the last one submitted
        self._closed = False

    def at(self, offset: int) -> T:
        """What examine(offset) returns, computed ahead when the offset was predicted."""
        if self._closed:
            return self._examine(offset)
        if not self._pending or self._pending[0][0] != offset:
            self._drop()
            self._submit(offset, self._peek(offset))
        while self._next is not None:
            peeked = self._peek(self._next)
            if peeked is None:
                self._next = None
            elif len(self._pending) > 1 and self._pending_raw - self._pending[0][1] + peeked[0] > self._ahead:
                break
            else:
                self._submit(self._next, peeked)
        _, raw, result = self._pending.popleft()
        self._pending_raw -= raw
        return result.result()

    def _submit(self, offset: int, peeked: tuple[int, int] | None) -> None:
        raw, self._next = peeked or (0, None)
        self._pending.append((offset, raw, self._pool.submit(self._examine, offset)))
        self._pending_raw += raw

    def _drop(self) -> None:
        while self._pending:
            self._pending.popleft()[2].cancel()
        self._pending_raw = 0
        self._next = None

    def close(self) -> None:
        """Forget the predictions and wait for the workers (they may be reading the file)."""
        self._closed = True
        self._drop()
        self._pool.shutdown(wait=True, cancel_futures=True)
