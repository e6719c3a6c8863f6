"""The CREW protocol over one guest frame: states, transitions, dependencies.

SMP-ReVirt (seeds/001, slides 11-14; docs/architecture.md "CREW"): a frame is
Concurrent-Read (a set of readers, no writer) or Exclusive-Write (one owner);
NONE is the state of a frame nobody has touched. An access the state forbids
faults; the holders that stand in the way are reduced (each at a position of
its own) and the faulting actor is increased (at its fault position). Every
such change of one actor's access to one frame is a CREW event.

This module is the one definition of which events are legal and of which
earlier reductions an increase must be ordered after (the constraints). The
constraint deriver (constraints.py), the checker (checker.py), the sharing
analysis (sharing.py) and the simulated recorder (sim/recording.py) all
drive frames through `Frame.apply`.
"""

from collections.abc import Iterable, Iterator
from enum import IntEnum
from typing import NamedTuple

from xenrr.crew.actors import actor_name
from xenrr.crew.errors import IllegalTransition, PositionError
from xenrr.formats.enums import CrewState


class Access(IntEnum):
    """An actor's access to a frame; a larger value is a larger privilege."""

    NONE = 0x0
    READ = 0x1
    WRITE = 0x2


_NONE, _READ, _WRITE = Access.NONE, Access.READ, Access.WRITE

# A trace's CREW states (crew_event) as the model's accesses, and back.
ACCESS = {CrewState.NONE: _NONE, CrewState.CR: _READ, CrewState.EW: _WRITE}
STATE = {access: state for state, access in ACCESS.items()}
_STATES = ", ".join(f"{s.value} ({s.name})" for s in CrewState)


class CrewEvent(NamedTuple):
    """One actor's access to one frame changes, at a position of that actor."""

    actor: int
    frame: int
    old: Access
    new: Access
    position: int


class Constraint(NamedTuple):
    """`src` passes `src_pos` before `dst` passes `dst_pos` (docs/architecture.md "CREW").

    "Passes" has one meaning throughout: the source has *arrived* at src_pos
    (everything it did before that position is done) before the destination
    *leaves* dst_pos (does anything after it).
    """

    src: int
    src_pos: int
    dst: int
    dst_pos: int


def describe(actor: int, frame: int, position: int) -> str:
    """The place an error happened, worded the same in every message."""
    return f"{actor_name(actor)}, frame {frame:#x}, position {position}"


def unknown_state(actor: int, frame: int, position: int, old: int, new: int) -> IllegalTransition:
    """The error for a crew_event whose old or new state is not a CREW state."""
    return IllegalTransition(f"{describe(actor, frame, position)}: CREW state {old}->{new} is "
                             f"not one of {_STATES}")


def describe_constraint(c: Constraint) -> str:
    return (f"{actor_name(c.src)} passes {c.src_pos} before "
            f"{actor_name(c.dst)} passes {c.dst_pos}")


class Frame:
    """The CREW state of one frame and the reductions not yet answered.

    `released` holds the reductions made since the last increase: the next
    increase is the transition they were made for, so it must be ordered
    after each of them. `last_write` is where the last owner gave write
    access up: a reader joining a Concurrent-Read set later reads what that
    owner wrote, so it is ordered after that point even though nobody is
    reduced for it (slide 13: a CREW event on each processor between any two
    conflicting accesses).

    `reduce_where_gained` allows a reduction at the very position where the
    access was granted (BRANCH positions): Xen takes a frame from a vCPU
    blocked there, or waiting there for a vCPU before it, rather than have
    two vCPUs wait for each other forever (patch 0010). At one position an
    actor's events keep the trace's order, and an actor has passed a
    position, for a constraint naming it, once it has applied its events
    there that come before the constrained one.
    """

    __slots__ = ("number", "holders", "writer", "gained", "released", "last_write",
                 "reduce_where_gained")

    def __init__(self, number: int, reduce_where_gained: bool = False) -> None:
        self.number = number
        self.reduce_where_gained = reduce_where_gained
        self.holders: dict[int, Access] = {}
        self.writer: int | None = None
        self.gained: dict[int, int] = {}
        self.released: list[tuple[int, int]] = []
        self.last_write: tuple[int, int] | None = None

    def access(self, actor: int) -> Access:
        return self.holders.get(actor, _NONE)

    def victims(self, actor: int, want: Access) -> list[tuple[int, Access]]:
        """The reductions an access `want` by `actor` needs: (victim, new access).

        A read reduces the owner of an Exclusive-Write frame to read; a write
        reduces every other holder to none.
        """
        if want == _WRITE:
            return [(h, _NONE) for h in self.holders if h != actor]
        w = self.writer
        return [] if w is None or w == actor else [(w, _READ)]

    def apply(self, actor: int, old: Access, new: Access,
              position: int) -> list[tuple[int, int]]:
        """Apply one CREW event; return the (actor, position) it must follow.

        The most recent reduction comes first: the actor reduced last is the
        most likely to know of the others, so a reducer taking them in this
        order drops more of them as implied.

        Raises IllegalTransition if the frame's state does not allow the
        event, PositionError if a reduction does not come after the position
        at which the access it takes away was granted (a reduction takes
        effect at the victim's next position).
        """
        holders = self.holders
        if holders.get(actor, _NONE) != old:
            raise IllegalTransition(
                f"{describe(actor, self.number, position)}: {old.name}->{new.name}, "
                f"but it holds {holders.get(actor, _NONE).name}")
        if new < old:
            gained = self.gained[actor]
            if position < gained or (position == gained and not self.reduce_where_gained):
                raise PositionError(
                    f"{describe(actor, self.number, position)}: reduced at or before "
                    f"position {self.gained[actor]}, where it was granted {old.name}")
            if old == _WRITE:
                self.writer = None
                self.last_write = (actor, position)
            if new == _NONE:
                del holders[actor]
            else:
                holders[actor] = new
            self.released.append((actor, position))
            return []
        if new == old:
            raise IllegalTransition(
                f"{describe(actor, self.number, position)}: {old.name}->{new.name} "
                "changes nothing")
        if new == _WRITE:
            if len(holders) > (old != _NONE):
                others = ", ".join(actor_name(h) for h in holders if h != actor)
                raise IllegalTransition(
                    f"{describe(actor, self.number, position)}: {old.name}->WRITE "
                    f"while the frame is also held by {others}")
            self.writer = actor
        elif self.writer is not None:
            raise IllegalTransition(
                f"{describe(actor, self.number, position)}: NONE->READ while "
                f"{actor_name(self.writer)} holds WRITE")
        holders[actor] = new
        self.gained[actor] = position
        released = self.released
        if released:
            self.released = []
            released.reverse()
            for r in released:
                if r[0] == actor:
                    released = [r for r in released if r[0] != actor]
                    break
            if released:
                return released
        last = self.last_write
        if new == _READ and last is not None and last[0] != actor:
            return [last]
        return []


def requirements(events: Iterable[CrewEvent],
                 reduce_where_gained: bool = False) -> Iterator[Constraint]:
    """Every ordering a history's increases require, before reduction.

    They come out in a causal order (each when its increase happens), the
    order clocks.reduce needs. `reduce_where_gained`: as Frame's (BRANCH).
    """
    frames: dict[int, Frame] = {}
    for actor, frame, old, new, position in events:
        fr = frames.get(frame)
        if fr is None:
            fr = frames[frame] = Frame(frame, reduce_where_gained)
        for src, src_pos in fr.apply(actor, old, new, position):
            yield Constraint(src, src_pos, actor, position)
