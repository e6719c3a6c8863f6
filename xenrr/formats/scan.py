"""Bulk scans: statistics, record arrays and record values without decoding records one by one.

A chunk's raw block is viewed as 8-byte slots. Every record header is at a
slot boundary and carries REC_TYPE_IDENT in bits 16-30 of its type, so one
mask finds the candidate headers; the framing is then confirmed by checking,
all at once, that each candidate's length leads to the next candidate. Data
that happens to carry the ident breaks that check locally, and the chain is
then followed from one good run to the next (a Python step per stray
candidate, not per record). The result is the same framing framing.walk
finds, and the same errors (spec "Bulk scans").

`values` is the scan for passes that need the records themselves in trace
order (the CREW model's): only the fixed parts of the records asked for are
unpacked, as flat tuples, with their codecs' own structs.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from xenrr.formats.errors import RecordError, UnknownRecordError
from xenrr.formats.framing import walk
from xenrr.formats.records import BY_TYPE, RECORD_CLASSES
from xenrr.formats.recordtype import RECORD_HEADER
from xenrr.formats.rectypes import type_name
from xenrr.formats.rectypes import REC_OPTIONAL, REC_TYPE_IDENT, REC_TYPE_IDENT_MASK

_IDENT_MASK = np.uint64(REC_TYPE_IDENT_MASK)
_IDENT = np.uint64(REC_TYPE_IDENT)
_TYPE_BITS = np.uint64(0xFFFFFFFF)
_LOW_TYPE = np.uint64(0xFFFF)
_OPTIONAL_TO_BIT_16 = np.uint64(15)
_BIT_16 = np.uint64(1 << 16)
_DENSE_ACTORS = 512  # actor ids counted in a table; larger ones (devices) one by one


def _type_key(rtype: int) -> int:
    """A record type's index into _BIN: its low 16 bits and the optional bit (the ident is known)."""
    return (rtype & 0xFFFF) | (rtype >> 31) << 16


# Known types get bins 0..n-1; bin n (_OTHER) collects the types this revision does not know.
_KNOWN = tuple(cls.TYPE for cls in RECORD_CLASSES)
_OTHER = len(_KNOWN)
_BIN = np.full(1 << 17, _OTHER, dtype=np.uint8)  # small, so that it stays in cache
_BIN[[_type_key(t) for t in _KNOWN]] = np.arange(len(_KNOWN))
_HAS_ACTOR = np.array([cls.ACTOR is not None for cls in RECORD_CLASSES] + [False])
_FRAMED = np.array([cls.CODEC.framed_size for cls in RECORD_CLASSES] + [0])  # 0: size varies
# Records a (type, actor) table of counts cannot say everything about: sizes that vary.
_EXACT = _FRAMED == 0
_COLUMNS = _DENSE_ACTORS + 1  # the last column: no actor, or an actor id beyond the dense range
_FIRST_CELL = _BIN.astype(np.int32) * _COLUMNS  # type key -> its bin's first cell in the table


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
    following = words >> np.uint64(32)       # body length, then slots to the next header:
    following += np.uint64(15)
    following >>= np.uint64(3)
    following = following.view(np.int64)     # lengths are u32: the bits are the same
    following += cand
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
    """Counts in a dense (type, actor) table, one bincount per chunk; the rest tallied exactly.

    Fixed-size records of known types with small actor ids (the hot ones)
    only need counting: their bytes follow from their size. Records of
    variable size or unknown type, and actors beyond the dense range, are
    tallied exactly, and only when a chunk's table shows it has some.
    """

    def __init__(self):
        self.table = np.zeros((_OTHER + 1, _COLUMNS), dtype=np.int64)
        self.exact: dict[tuple[int, int | None], list[int]] = {}  # (type, actor) -> [records, bytes]

    def add(self, block, slots: np.ndarray, words: np.ndarray) -> None:
        key = words >> _OPTIONAL_TO_BIT_16
        key &= _BIT_16
        key |= words & _LOW_TYPE
        key = key.view(np.int64)
        actors = np.frombuffer(block, dtype="<u8").take(slots + 1, mode="clip")
        actors &= _TYPE_BITS                     # the u32 at body offset 0
        cells = np.minimum(actors, np.uint64(_DENSE_ACTORS)).view(np.int64)
        cells += _FIRST_CELL[key]
        table = np.bincount(cells, minlength=self.table.size).reshape(self.table.shape)
        self.table += table
        if table[_EXACT].any() or table[_HAS_ACTOR, _DENSE_ACTORS].any():
            bins = _BIN[key]
            exact = _EXACT[bins] | (_HAS_ACTOR[bins] & (actors >= _DENSE_ACTORS))
            self._add_exact(bins[exact], actors[exact], words[exact])

    def _add_exact(self, bins, actors, words) -> None:
        types = words & _TYPE_BITS
        unknown = types[bins == _OTHER]
        mandatory = unknown[(unknown & np.uint64(REC_OPTIONAL)) == 0]
        if mandatory.size:
            raise UnknownRecordError(f"unknown mandatory record type {int(mandatory[0]):#010x}")
        keys = (types << np.uint64(32)) | np.where(_HAS_ACTOR[bins], actors, 0).astype(np.uint64)
        framed = (((words >> np.uint64(32)) + np.uint64(15)) >> np.uint64(3)) << np.uint64(3)
        values, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse)
        sizes = np.bincount(inverse, weights=framed)
        for key, n, size in zip(values.tolist(), counts.tolist(), sizes.tolist()):
            cls = BY_TYPE.get(key >> 32)
            actor = key & 0xFFFFFFFF if cls is not None and cls.ACTOR else None
            entry = self.exact.setdefault((key >> 32, actor), [0, 0])
            entry[0] += n
            entry[1] += int(size)

    def stats(self, stats: Stats) -> Stats:
        def add(table: dict, key: int, n: int, size: int) -> None:
            entry = table.setdefault(key, [0, 0])
            entry[0] += n
            entry[1] += size
        for b in np.flatnonzero(~_EXACT):
            row = self.table[b, :_DENSE_ACTORS] if _HAS_ACTOR[b] else self.table[b]
            if row.any():
                add(stats.types, _KNOWN[b], int(row.sum()), int(row.sum()) * int(_FRAMED[b]))
            if _HAS_ACTOR[b]:
                for actor in np.flatnonzero(row):
                    add(stats.actors, int(actor), int(row[actor]), int(row[actor]) * int(_FRAMED[b]))
        for (rtype, actor), (n, size) in self.exact.items():
            add(stats.types, rtype, n, size)
            if actor is not None:
                add(stats.actors, actor, n, size)
        stats.types = dict(sorted(stats.types.items()))
        stats.actors = dict(sorted(stats.actors.items()))
        return stats


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


def values(reader, exact: Iterable, prefix: Iterable = ()) -> Iterator[tuple[int, tuple]]:
    """(type, fixed-part values) of the records of the classes given, in trace order.

    The values are in the order of the class's LAYOUT.flat_names. A record
    of an `exact` class must have exactly its fixed size; one of a `prefix`
    class at least its fixed part, whose values alone are read. Each chunk's
    framing is walked once; other records are `xenrr log verify`'s business.
    """
    table = {cls.TYPE: (cls.CODEC.size, True, cls.CODEC.body.unpack_from) for cls in exact}
    for cls in prefix:
        table[cls.TYPE] = (cls.CODEC.size, False, cls.CODEC.body.unpack_from)
    header = RECORD_HEADER.size
    for chunk in reader.chunks():
        data = chunk.data
        try:
            for offset, rtype, length in walk(data):
                body = table.get(rtype)
                if body is None:
                    continue
                size, is_exact, unpack = body
                if length != size and (is_exact or length < size):
                    raise RecordError(f"{type_name(rtype)} at +{offset:#x}: expected a body of "
                                      f"{'' if is_exact else 'at least '}{size} bytes, got "
                                      f"{length}")
                yield rtype, unpack(data, offset + header)
        except RecordError as e:
            raise type(e)(f"{reader.path}: chunk {chunk.sequence} at {chunk.offset:#x}: {e}") from None


def positioned(cls) -> list[tuple[int, int]]:
    """(actor, count) indexes into the flat values of each position a fixed part carries.

    By the record conventions (spec "Positions and actors"): the actor id is
    the first member, and an `after_position` belongs to `after_vcpu`.
    """
    names = cls.LAYOUT.flat_names
    found = []
    for index, name in enumerate(names):
        if name.endswith("position.count"):
            prefix = name.removesuffix("position.count")
            found.append((names.index(f"{prefix}vcpu") if prefix else 0, index))
    return found
