"""Trace positions as the model's positions: one integer per actor (trace-format.md, "Positions").

The model orders each actor's positions by integers. In SYNC_ENTRY mode the
count is that integer (one count, one entry, one rip). In BRANCH mode the
count is the vCPU's retired conditional branches, which many points of its
run share (every instruction between two conditional branches, every
iteration of a rep-string instruction), and the position is the triple
(count, rip, rcx). A vCPU's records come in its execution order, so its
positions are numbered 0, 1, 2, ... in the order the trace gives them
(`Ordinals`): a new number whenever the position differs from the one
before, even one the vCPU was at earlier at the same count. That happens:
a branch-free function called twice in a row comes back to the same rip
(seen in Linux's paravirt irq code); the trace's order tells the two apart,
and so can replay, which reaches each one after the positions logged
between them. The count never goes down. A device's position is its
transaction number in either mode.

A record that names a position an actor has *passed* (a constraint's
`after_position`) is no visit: it names a reduction the actor made, maybe
long ago, that an increase must follow. `Sources` keeps the numbers of
exactly the reductions an increase can still have to follow (those
protocol.Frame keeps: the reductions of a frame since its last increase,
and its last write), so that memory does not grow with the trace.
"""

from xenrr.crew.actors import actor_name
from xenrr.crew.errors import InconsistentConstraint, PositionError
from xenrr.formats.enums import PositionMode
from xenrr.formats.records import Position


def position_mode(mode: int) -> PositionMode:
    """The trace's position mode; PositionError for a number the model does not know."""
    try:
        return PositionMode(mode)
    except ValueError:
        known = ", ".join(f"{m.value} ({m.name})" for m in PositionMode)
        raise PositionError(f"position_mode {mode} is not one of {known}") from None


class Unordered(Exception):
    """What is wrong with a position an actor cannot be at then; the caller says where."""

    def at(self, where: str) -> PositionError:
        return PositionError(f"{where}: {self}")


class Ordinals:
    """Each vCPU's distinct BRANCH positions, numbered in the order it reaches them."""

    __slots__ = ("_at",)

    def __init__(self) -> None:
        # actor -> [count, (rip, rcx), its ordinal, {(rip, rcx): ordinal} at that count]
        self._at: dict[int, list] = {}

    def visit(self, actor: int, count: int, rip: int, rcx: int) -> int:
        """The ordinal of the position the actor is at now.

        Unordered (say where, then it) if the count goes down. A position
        the actor was at earlier at this count, and left, is a new one.
        """
        at = self._at.get(actor)
        key = (rip, rcx)
        if at is None:
            self._at[actor] = [count, key, 0, {key: 0}]
            return 0
        if count == at[0]:
            if key == at[1]:
                return at[2]
            seen = at[3]
        elif count > at[0]:
            at[0], seen = count, {}
            at[3] = seen
        else:
            raise Unordered(f"the count of {actor_name(actor)} goes down "
                            f"(it was at {_shown(at)})")
        at[1] = key
        at[2] += 1
        seen[key] = at[2]
        return at[2]

    def reached(self, actor: int, count: int, rip: int, rcx: int) -> int | None:
        """The ordinal of a position of the actor's current count it has reached (the latest
        time, if it was there more than once), else None."""
        at = self._at.get(actor)
        if at is None or at[0] != count:
            return None
        return at[3].get((rip, rcx))

    def before(self, actor: int, count: int, rip: int, rcx: int) -> bool:
        """Whether the actor may not have reached the position yet: it is at an earlier count,
        or at that count without having been at that point."""
        at = self._at.get(actor)
        return at is None or count > at[0] or (count == at[0] and (rip, rcx) not in at[3])


def _shown(at: list) -> Position:
    return Position(at[0], *at[1])


class Sources:
    """The ordinals of the reductions an increase can still have to follow, by trace position.

    Fed every CREW event in the order the checker takes them, it keeps what
    protocol.Frame keeps of each frame: the reductions since its last
    increase, and its last write (where write access was last given up).
    """

    __slots__ = ("_frames", "_held")

    _NOTHING = ((), None)

    def __init__(self) -> None:
        # frame -> [reductions since its last increase, its last write], each ((actor,
        # count, rip, rcx), ordinal); an increase replaces the list, never empties it
        self._frames: dict[int, list] = {}
        self._held: dict[tuple, list[int]] = {}   # (actor, count, rip, rcx) -> [ordinal, references]

    def event(self, actor: int, frame: int, old: int, new: int, position: tuple,
              ordinal: int) -> None:
        """A CREW event of `actor` at trace position `position` (count, rip, rcx) = `ordinal`."""
        fr = self._frames.get(frame)
        if fr is None:
            fr = self._frames[frame] = [[], None]
        if new > old:
            for key, _ in fr[0]:
                self._drop(key)
            fr[0] = []
            return
        key = (actor, *position)
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = [ordinal, 0]
        fr[0].append((key, ordinal))
        held[1] += 1
        if old == 2:   # write access given up (Access.WRITE, CrewState.EW)
            if fr[1] is not None:
                self._drop(fr[1][0])
            fr[1] = (key, ordinal)
            held[1] += 1

    def kept(self, frame: int) -> tuple:
        """(reductions since the frame's last increase, its last write or None), as
        ((actor, count, rip, rcx), ordinal): what an increase of the frame may have to follow."""
        fr = self._frames.get(frame)
        return self._NOTHING if fr is None else (fr[0], fr[1])

    def _drop(self, key: tuple) -> None:
        held = self._held[key]
        held[1] -= 1
        if not held[1]:
            del self._held[key]

    def find(self, actor: int, position: tuple) -> int | None:
        """The ordinal of the actor's reduction at that trace position, if one is still kept."""
        held = self._held.get((actor, *position))
        return None if held is None else held[0]


def source_ordinal(ordinals: Ordinals, sources: Sources, src: int, src_position: tuple,
                   dst: int, dst_position: tuple) -> int:
    """The ordinal of the position a constraint's source must have passed (BRANCH mode).

    InconsistentConstraint, naming both trace positions, when the source has
    not reached it, or made no reduction there that an increase can still
    have to follow.
    """
    found = sources.find(src, src_position)
    if found is not None:
        return found
    found = ordinals.reached(src, *src_position)
    if found is not None:
        return found   # the checker says why it is not the ordering the increase needs
    what = (f"{actor_name(src)} passes {Position(*src_position)} before "
            f"{actor_name(dst)} passes {Position(*dst_position)}")
    if ordinals.before(src, *src_position):
        raise InconsistentConstraint(f"{what}: {actor_name(src)} has not reached position "
                                     f"{Position(*src_position)}")
    raise InconsistentConstraint(f"{what}: {actor_name(src)} gave up no frame at "
                                 f"{Position(*src_position)} that an increase still has to follow")
