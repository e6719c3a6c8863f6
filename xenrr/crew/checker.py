"""The checker: is a log a legal CREW history with sufficient constraints?

The hypervisor's logs are judged against the model (docs/architecture.md stage 4:
"the reference model accepts the log"). A history is the log's CREW events
and constraints in the order they happened, each increase preceded by the
constraints logged for it (the order sim/recording.py and constraints.py produce). It is legal when:

- every event is allowed by its frame's state before it (protocol.Frame.apply);
- each actor's positions never go backwards; in SYNC_ENTRY mode a vCPU's
  increases are at strictly increasing positions (every CREW fault is a
  synchronous entry of its own), while in BRANCH mode one instruction may
  fault on several frames (a movs from one to another) and so take them all
  at its one position, as a device takes all the frames of a transaction at
  the transaction's one position; a reduction comes at a position after the
  one where the access it takes away was granted;
- every logged constraint is consistent: its source has arrived at the
  source position already, its destination has not passed the destination
  position, and it is one of the orderings the increase it precedes requires;
- every ordering an increase requires is implied by the logged constraints
  (clocks.VectorClocks), i.e. reduction dropped only what was redundant.

Errors are ModelError subclasses (errors.py) naming actor, frame and positions.
"""

from collections.abc import Callable, Iterable
from typing import NamedTuple

from xenrr.formats.enums import ACTOR_DEVICE_BASE, PositionMode
from xenrr.crew.actors import actor_name
from xenrr.crew.clocks import VectorClocks
from xenrr.crew.protocol import Constraint, CrewEvent, Frame, describe, describe_constraint
from xenrr.crew.errors import InconsistentConstraint, MissingConstraint, PositionError


class CheckSummary(NamedTuple):
    events: int
    constraints: int
    required: int
    frames: int
    actors: int


def check(history: Iterable[CrewEvent | Constraint],
          position_mode: PositionMode = PositionMode.SYNC_ENTRY) -> CheckSummary:
    """Check a history whose positions are of `position_mode`; return its counts, or raise
    the first violation."""
    frames: dict[int, Callable] = {}  # frame number -> its Frame's apply
    # actors below this id increase at most once per position
    one_fault_below = ACTOR_DEVICE_BASE if position_mode == PositionMode.SYNC_ENTRY else 0
    branch = position_mode == PositionMode.BRANCH
    last_pos: dict[int, int] = {}
    last_fault: dict[int, int] = {}
    logged: dict[int, list[Constraint]] = {}
    clocks = VectorClocks()
    unimplied, add = clocks.unimplied, clocks.add
    events = constraints = required = 0
    for item in history:
        if type(item) is CrewEvent:
            actor, frame, old, new, pos = item
            events += 1
            if pos < last_pos.get(actor, pos):
                raise PositionError(f"{describe(actor, frame, pos)}: after position "
                                    f"{last_pos[actor]}")
            last_pos[actor] = pos
            apply = frames.get(frame)
            if apply is None:
                apply = frames[frame] = Frame(frame, branch).apply
            sources = apply(actor, old, new, pos)
            if new < old:
                continue
            if actor < one_fault_below:
                if pos <= last_fault.get(actor, -1):
                    raise PositionError(f"{describe(actor, frame, pos)}: a second CREW "
                                        f"fault at position {last_fault[actor]}")
                last_fault[actor] = pos
            if actor in logged:
                for c in logged.pop(actor):
                    if c[:2] not in sources:
                        raise InconsistentConstraint(
                            f"{describe_constraint(c)}: not an ordering the increase at "
                            f"{describe(actor, frame, pos)} requires")
            if sources:
                required += len(sources)
                missing = unimplied(sources, actor)
                if missing is not None:
                    raise MissingConstraint(
                        f"{describe(actor, frame, pos)}: {old.name}->{new.name} must follow "
                        f"{actor_name(missing[0])} at position {missing[1]}, and no logged "
                        "constraint implies it")
        else:
            src, src_pos, dst, dst_pos = item
            constraints += 1
            waiting = logged.get(dst)
            if (src == dst or last_pos.get(src, -1) < src_pos
                    or last_pos.get(dst, dst_pos) > dst_pos
                    or (waiting and waiting[0].dst_pos != dst_pos)):
                _reject(item, last_pos, waiting)
            add(src, src_pos, dst, dst_pos)
            if waiting is None:
                logged[dst] = [item]
            else:
                waiting.append(item)
    for waiting in logged.values():
        if waiting:
            raise InconsistentConstraint(f"{describe_constraint(waiting[0])}: no increase "
                                         "follows it")
    return CheckSummary(events, constraints, required, len(frames), len(last_pos))


def _reject(c: Constraint, last_pos: dict[int, int], waiting: list[Constraint] | None) -> None:
    """Raise the error for a constraint the fast path found inconsistent."""
    if c.src == c.dst:
        raise InconsistentConstraint(f"{describe_constraint(c)}: an actor constrained by itself")
    if last_pos.get(c.src, -1) < c.src_pos:
        raise InconsistentConstraint(f"{describe_constraint(c)}: {actor_name(c.src)} has "
                                     f"not reached position {c.src_pos}")
    if last_pos.get(c.dst, c.dst_pos) > c.dst_pos:
        raise InconsistentConstraint(f"{describe_constraint(c)}: {actor_name(c.dst)} is "
                                     f"already at position {last_pos[c.dst]}")
    raise InconsistentConstraint(f"{describe_constraint(c)}: {describe_constraint(waiting[0])} "
                                 "is still waiting for its increase")
