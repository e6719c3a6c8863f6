"""Bulk scans with numpy: statistics and record arrays without a Python loop per record.

A chunk's raw block is viewed as 8-byte slots. Every record header is at a
slot boundary and carries REC_TYPE_IDENT in bits 16-30 of its type, so one
mask finds the candidate headers; the framing is then confirmed by checking,
all at once, that each candidate's length leads to the next candidate. Data
that happens to carry the ident breaks that check locally, and the chain is
then followed from one good run to the next (a Python step per stray
candidate, not per record). The result is the same framing framing.walk
finds, and the same errors (spec "Bulk scans").
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from xenrr.formats.errors import RecordError, UnknownRecordError
from xenrr.formats.records import BY_TYPE, RECORD_CLASSES
from xenrr.formats.rectypes import REC_OPTIONAL, REC_TYPE_IDENT, REC_TYPE_IDENT_MASK

_IDENT_MASK = np.uint64(REC_TYPE_IDENT_MASK)
_IDENT = np.uint64(REC_TYPE_IDENT)
_TYPE_BITS = np.uint64(0xFFFFFFFF)
_LOW_TYPE = 0xFFFF
_KEY_BITS = 17  # low 16 bits of the type and the optional bit
_DENSE_ACTORS = 4096


def _type_key(rtype: int) -> int:
    return (rtype & _LOW_TYPE) | (rtype >> 31) << 16


# Known types get bins 0..n-1 of the type counts; bin n collects the rest.
_KNOWN = tuple(cls.TYPE for cls in RECORD_CLASSES)
_OTHER = len(_KNOWN)
_BIN = np.full(1 << _KEY_BITS, _OTHER, dtype=np.intp)
_BIN[[_type_key(t) for t in _KNOWN]] = np.arange(len(_KNOWN))
# Records whose body starts with an actor id (records.py conventions).
_HAS_ACTOR = np.array([cls.ACTOR is not None for cls in RECORD_CLASSES] + [False])


def headers(block) -> tuple[np.ndarray, np.ndarray]:
    """Slot index (offset / 8) and header word (type | length << 32) of each record of a block."""
    if len(block) % 8:
        raise RecordError(f"a block of {len(block)} bytes cannot hold whole padded records")
    slots = np.frombuffer(block, dtype="<u8")
    count = len(slots)
    cand = np.flatnonzero((slots & _IDENT_MASK) == _IDENT)
    if count == 0:
        return cand, slots[:0]
    if cand.size == 0 or cand[0] != 0:
        raise RecordError("the block does not start with a record header")
    words = slots[cand]
    following = cand + 1 + (((words >> np.uint64(32)).astype(np.intp) + 7) >> 3)
    if following[-1] == count and np.array_equal(following[:-1], cand[1:]):
        return cand, words
    keep = _follow_chain(cand, following, count)
    return cand[keep], words[keep]


def _follow_chain(cand: np.ndarray, following: np.ndarray, count: int) -> np.ndarray:
    """Which candidates the framing chain from slot 0 really visits."""
    linked = np.empty(len(cand), dtype=bool)
    linked[:-1] = following[:-1] == cand[1:]
    linked[-1] = following[-1] == count
    breaks = np.flatnonzero(~linked)
    keep = np.zeros(len(cand), dtype=bool)
    k = 0
    while True:
        b = np.searchsorted(breaks, k)
        if b == len(breaks):
            keep[k:] = True
            return keep
        stop = breaks[b]
        keep[k:stop + 1] = True
        target = following[stop]
        if target == count:
            return keep
        k = int(np.searchsorted(cand, target))
        if target > count or k == len(cand) or cand[k] != target:
            raise RecordError(f"record at +{cand[stop] * 8:#x} leads to +{target * 8:#x}, "
                              "where no record header is")


def _check_known(words: np.ndarray, bins: np.ndarray) -> None:
    other = words[bins == _OTHER] & _TYPE_BITS
    mandatory = other[(other & np.uint64(REC_OPTIONAL)) == 0]
    if mandatory.size:
        raise UnknownRecordError(f"unknown mandatory record type {int(mandatory[0]):#010x}")


@dataclass
class Stats:
    """Counts and framed bytes per record type and per actor (spec "Bulk scans")."""

    chunks: int = 0
    records: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    types: dict[int, list[int]] = field(default_factory=dict)   # type -> [records, bytes]
    actors: dict[int, list[int]] = field(default_factory=dict)  # actor id -> [records, bytes]

    @property
    def ratio(self) -> float:
        """Compression ratio: raw bytes per stored byte."""
        return self.raw_bytes / self.stored_bytes if self.stored_bytes else 0.0


class _Tally:
    """Per-chunk numpy accumulators behind Stats."""

    def __init__(self):
        self.type_counts = np.zeros(_OTHER + 1, dtype=np.int64)
        self.type_bytes = np.zeros(_OTHER + 1, dtype=np.int64)
        self.actor_counts = np.zeros(_DENSE_ACTORS, dtype=np.int64)
        self.actor_bytes = np.zeros(_DENSE_ACTORS, dtype=np.int64)
        self.sparse: dict[int, list[int]] = {}   # types and actors outside the dense bins
        self.sparse_actors: dict[int, list[int]] = {}

    def add(self, block, slots: np.ndarray, words: np.ndarray) -> None:
        types = words & _TYPE_BITS
        bins = _BIN[((types & np.uint64(_LOW_TYPE)) | ((types >> np.uint64(15)) & np.uint64(1 << 16)))
                    .astype(np.intp)]
        framed = (((words >> np.uint64(32)).astype(np.intp) + 15) >> 3) << 3
        self.type_counts += np.bincount(bins, minlength=_OTHER + 1)
        self.type_bytes += np.bincount(bins, weights=framed, minlength=_OTHER + 1).astype(np.int64)
        if self.type_counts[_OTHER]:
            _check_known(words, bins)
            _tally_sparse(self.sparse, types[bins == _OTHER], framed[bins == _OTHER])
        with_actor = _HAS_ACTOR[bins]
        actors = np.frombuffer(block, dtype="<u4")[2 * (slots[with_actor] + 1)]
        sizes = framed[with_actor]
        dense = actors < _DENSE_ACTORS
        self.actor_counts += np.bincount(actors[dense], minlength=_DENSE_ACTORS)[:_DENSE_ACTORS]
        self.actor_bytes += np.bincount(actors[dense], weights=sizes[dense],
                                        minlength=_DENSE_ACTORS)[:_DENSE_ACTORS].astype(np.int64)
        if not dense.all():
            _tally_sparse(self.sparse_actors, actors[~dense], sizes[~dense])

    def stats(self, stats: Stats) -> Stats:
        for i in np.flatnonzero(self.type_counts[:_OTHER]):
            stats.types[_KNOWN[i]] = [int(self.type_counts[i]), int(self.type_bytes[i])]
        stats.types.update(self.sparse)
        for a in np.flatnonzero(self.actor_counts):
            stats.actors[int(a)] = [int(self.actor_counts[a]), int(self.actor_bytes[a])]
        stats.actors.update(self.sparse_actors)
        return stats


def _tally_sparse(into: dict, keys: np.ndarray, sizes: np.ndarray) -> None:
    values, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse)
    total = np.bincount(inverse, weights=sizes)
    for v, c, b in zip(values.tolist(), counts.tolist(), total.tolist()):
        entry = into.setdefault(int(v), [0, 0])
        entry[0] += c
        entry[1] += int(b)


def stats(reader, progress: Callable[[int], None] | None = None) -> Stats:
    """Statistics over every good chunk of a trace; progress(offset) after each chunk."""
    result, tally = Stats(), _Tally()
    for chunk in reader.chunks():
        try:
            slots, words = headers(chunk.data)
            tally.add(chunk.data, slots, words)
        except RecordError as e:
            raise type(e)(f"{reader.path}: chunk {chunk.sequence} at {chunk.offset:#x}: {e}") from None
        result.chunks += 1
        result.records += len(slots)
        result.raw_bytes += len(chunk.data)
        result.stored_bytes += chunk.size
        if progress is not None:
            progress(chunk.end)
    return tally.stats(result)


def arrays(reader, cls) -> Iterator[np.ndarray]:
    """The records of one fixed-size class, chunk by chunk, as numpy arrays of its dtype."""
    layout = cls.LAYOUT
    if layout.tail or cls not in BY_TYPE.values():
        raise RecordError(f"{cls.__name__} is not a fixed-size record class")
    width = cls.CODEC.framed_size // 8 - 1
    columns = np.arange(1, width + 1)
    wanted = np.uint64(cls.TYPE | layout.size << 32)
    for chunk in reader.chunks():
        try:
            slots, words = headers(chunk.data)
        except RecordError as e:
            raise type(e)(f"{reader.path}: chunk {chunk.sequence} at {chunk.offset:#x}: {e}") from None
        mine = (words & _TYPE_BITS) == np.uint64(cls.TYPE)
        if (words[mine] != wanted).any():
            raise RecordError(f"{reader.path}: chunk {chunk.sequence}: {cls.NAME} record "
                              f"with a length other than {layout.size}")
        body = np.frombuffer(chunk.data, dtype="<u8")[slots[mine][:, None] + columns]
        yield body.view(np.uint8)[:, :layout.size].copy().view(layout.dtype).reshape(-1)
