"""Vector clocks over actor positions: which constraints are already implied.

Slide 10 of seeds/001: to enforce b->c it suffices to log b->c; a->d follows
from a->b (program order), b->c and c->d (program order), so logging it is
redundant. In position terms a constraint (j, p) -> (i, q) is implied when the
constraints already kept make j arrive at p before i leaves q: directly
(j, p' >= p) -> (i, q' <= q), or through a chain of actors.

`VectorClocks` keeps, per actor, what it knows when it leaves its latest
position (the highest position of every other actor that must have been
reached), and a history of those vectors by position, because what j knew
on arriving at p is what it knew on leaving its last position before p. The
constraints must be fed in a causal order: the order in which the recording
produced them (every constraint into j at a position before p comes before a
constraint out of (j, p)), with each actor's destination positions never
decreasing. Both the recorder and the checker feed them that way.
"""

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from xenrr.crew.protocol import Constraint

_UNKNOWN = -1


class VectorClocks:
    __slots__ = ("_slot", "_now", "_hist_pos", "_hist_vec")

    def __init__(self) -> None:
        self._slot: dict[int, int] = {}
        self._now: list[list[int]] = []
        self._hist_pos: list[list[int]] = []
        self._hist_vec: list[list[tuple[int, ...]]] = []

    def _slot_of(self, actor: int) -> int:
        s = self._slot.get(actor)
        if s is None:
            s = self._slot[actor] = len(self._now)
            for vec in self._now:
                vec.append(_UNKNOWN)
            self._now.append([_UNKNOWN] * (s + 1))
            self._hist_pos.append([])
            self._hist_vec.append([])
        return s

    def implied(self, src: int, src_pos: int, dst: int) -> bool:
        """Whether `dst`, leaving its latest position, already follows (src, src_pos)."""
        s = self._slot.get(src)
        d = self._slot.get(dst)
        return s is not None and d is not None and self._now[d][s] >= src_pos

    def unimplied(self, sources: list[tuple[int, int]], dst: int) -> tuple[int, int] | None:
        """The first (src, src_pos) of `sources` that `dst` does not follow yet, or None."""
        implied = self.implied
        for source in sources:
            if not implied(source[0], source[1], dst):
                return source
        return None

    def add(self, src: int, src_pos: int, dst: int, dst_pos: int) -> None:
        """Record the constraint (src, src_pos) -> (dst, dst_pos)."""
        slot = self._slot
        s = slot[src] if src in slot else self._slot_of(src)
        d = slot[dst] if dst in slot else self._slot_of(dst)
        now = self._now[d]
        positions = self._hist_pos[s]
        k = len(positions) - 1
        if k >= 0 and positions[k] >= src_pos:
            k = bisect_left(positions, src_pos) - 1
        if k >= 0:
            i = 0
            for v in self._hist_vec[s][k]:
                if v > now[i]:
                    now[i] = v
                i += 1
        if src_pos > now[s]:
            now[s] = src_pos
        positions = self._hist_pos[d]
        if positions and positions[-1] == dst_pos:
            self._hist_vec[d][-1] = tuple(now)
        else:
            positions.append(dst_pos)
            self._hist_vec[d].append(tuple(now))

    def keep(self, c: Constraint) -> bool:
        """Add `c` unless it is implied; return whether it was added."""
        if self.implied(c[0], c[1], c[2]):
            return False
        self.add(*c)
        return True


def reduce(constraints: Iterable[Constraint]) -> Iterator[Constraint]:
    """The constraints not implied by the ones before them, in causal order."""
    clocks = VectorClocks()
    return (c for c in constraints if clocks.keep(c))
