"""Trace records <-> model events and constraints (xenrr.formats, "crew_event", "constraint").

The model counts positions, one integer per actor (positions.py). In a
SYNC_ENTRY trace a position is (count, rip) and the rip only guards against
divergence: the model sees the count, and this adapter checks the rip
where it can: every record naming an actor at the same count must name the
same rip (one position is one instruction). In a BRANCH trace a vCPU's
position is (count, rip, rcx), many of which share a count: the model sees
each vCPU's distinct positions numbered in trace order, and this adapter
checks that the order is one an execution can have (positions.Ordinals).
The trace_header's position_mode says which.

Order: the checker needs the CREW records in the order Xen applied them
(each frame's transitions in order; the constraints of an increase before
it). A trace gives that order only for records written to one stream
(TraceWriter.write keeps order within a stream only), so a recorder must
write all crew_event and constraint records of a domain to one stream.
"""

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from xenrr.crew.actors import actor_name
from xenrr.crew.checker import CheckSummary, check
from xenrr.crew.errors import PositionError
from xenrr.crew.positions import Ordinals, Sources, Unordered, position_mode, source_ordinal
from xenrr.crew.protocol import ACCESS, STATE, Constraint, CrewEvent, describe, unknown_state
from xenrr.crew.sharing import Sharing, analyse
from xenrr.errors import ModelError
from xenrr.formats import PositionMode, TraceReader
from xenrr.formats import records as rec
from xenrr.formats.enums import ACTOR_DEVICE_BASE
from xenrr.formats.errors import TraceDamaged
from xenrr.formats.scan import positioned, values

T = TypeVar("T")

_EVENT, _CONSTRAINT = rec.CrewEvent, rec.Constraint


def _flat(cls, *names: str) -> Callable[[tuple], tuple]:
    """Pick members out of a record's flat struct values by their spec names."""
    return itemgetter(*(cls.LAYOUT.flat_names.index(n) for n in names))


_EVENT_VALUES = _flat(_EVENT, "vcpu", "old_state", "new_state", "gfn",
                      "position.count", "position.rip")
_CONSTRAINT_VALUES = _flat(_CONSTRAINT, "after_vcpu", "after_position.count",
                           "after_position.rip", "vcpu", "position.count", "position.rip")
_BRANCH_EVENT_VALUES = _flat(_EVENT, "vcpu", "old_state", "new_state", "gfn",
                             "position.count", "position.rip", "position.rcx")
_BRANCH_CONSTRAINT_VALUES = _flat(_CONSTRAINT, "after_vcpu", "after_position.count",
                                  "after_position.rip", "after_position.rcx", "vcpu",
                                  "position.count", "position.rip", "position.rcx")


def _positioned() -> dict[int, list[Callable[[tuple], tuple[int, int]]]]:
    """Every other record whose fixed part carries positions: type -> (actor, count) getters."""
    table = {}
    for cls in rec.RECORD_CLASSES:
        if cls not in (_EVENT, _CONSTRAINT) and getattr(cls.CODEC, "body", None) is not None:
            getters = [itemgetter(*pair) for pair in positioned(cls)]
            if getters:
                table[cls.TYPE] = getters
    return table


def trace_position_mode(reader: TraceReader) -> PositionMode:
    """The trace's position mode; SYNC_ENTRY when chunk 0 was lost (the damage says so)."""
    if reader.header is None:
        return PositionMode.SYNC_ENTRY
    return position_mode(reader.header.position_mode)


def read_history(reader: TraceReader, extents: dict[int, list[int]] | None = None
                 ) -> Iterable[CrewEvent | Constraint]:
    """The model's view of a trace's crew_event and constraint records, in trace order.

    A bulk scan (formats.scan.values): other records are `xenrr log
    verify`'s business, except that with `extents`, every record carrying a
    position extends its actor's [first, last] count there (in a BRANCH
    trace too: a span of retired branches, not of the model's positions).
    """
    if trace_position_mode(reader) == PositionMode.BRANCH:
        return BranchHistory(reader, extents)
    return _sync_history(reader, extents)


def _sync_history(reader: TraceReader, extents: dict[int, list[int]] | None
                  ) -> Iterator[CrewEvent | Constraint]:
    """SYNC_ENTRY: the count is the model's position; one count, one rip."""
    others = _positioned() if extents is not None else {}
    event_type, constraint_type = _EVENT.TYPE, _CONSTRAINT.TYPE
    rips: dict[int, tuple[int, int]] = {}
    access = ACCESS
    make = tuple.__new__  # what NamedTuple._make does, without its extra call
    prefix = [rec.BY_TYPE[t] for t in others]
    for rtype, fields in values(reader, (_EVENT, _CONSTRAINT), prefix):
        if rtype == event_type:
            actor, old, new, frame, count, rip = _EVENT_VALUES(fields)
            if rips.get(actor) != (count, rip):
                _same_rip(rips, actor, count, rip, frame)
            try:
                event = make(CrewEvent, (actor, frame, access[old], access[new], count))
            except KeyError:
                raise unknown_state(actor, frame, count, old, new) from None
            if extents is not None:
                _extend(extents, actor, count)
            yield event
        elif rtype == constraint_type:
            src, src_pos, src_rip, dst, dst_pos, dst_rip = _CONSTRAINT_VALUES(fields)
            if rips.get(src) != (src_pos, src_rip):
                _same_rip(rips, src, src_pos, src_rip, None)
            if rips.get(dst) != (dst_pos, dst_rip):
                _same_rip(rips, dst, dst_pos, dst_rip, None)
            if extents is not None:
                _extend(extents, src, src_pos)
                _extend(extents, dst, dst_pos)
            yield make(Constraint, (src, src_pos, dst, dst_pos))
        else:
            for get in others[rtype]:
                _extend(extents, *get(fields))


class BranchHistory:
    """BRANCH: each vCPU's distinct (count, rip, rcx) numbered in trace order (positions.py).

    A device's position is its count, one count, one rip, as in SYNC_ENTRY.
    `last` names what the numbers of the item given out last stand for,
    ((actor, number, count, rip, rcx), ...), and `kept` the reductions an
    event's increase may have to follow, so that an error the model finds
    in it can say where in the trace it is (`legend`).
    """

    def __init__(self, reader: TraceReader, extents: dict[int, list[int]] | None = None):
        self.reader = reader
        self.extents = extents
        self.last: tuple = ()
        self.kept: tuple = ((), None)

    def __iter__(self) -> Iterator[CrewEvent | Constraint]:
        extents = self.extents
        others = _positioned() if extents is not None else {}
        event_type, constraint_type = _EVENT.TYPE, _CONSTRAINT.TYPE
        ordinals, sources = Ordinals(), Sources()
        visit = ordinals.visit
        rips: dict[int, tuple[int, int]] = {}
        access, device_base, Position = ACCESS, ACTOR_DEVICE_BASE, rec.Position
        make = tuple.__new__  # what NamedTuple._make does, without its extra call
        prefix = [rec.BY_TYPE[t] for t in others]

        def number(actor, count, rip, rcx, frame):
            """The model's position of an actor at (count, rip, rcx): a device keeps its
            count (one count, one rip); a vCPU's is numbered in trace order. `frame` is
            the event's, None for a constraint, as _same_rip takes it."""
            if actor >= device_base:
                if rips.get(actor) != (count, rip):
                    _same_rip(rips, actor, count, rip, frame)
                return count
            try:
                return visit(actor, count, rip, rcx)
            except Unordered as e:
                where = (f"a constraint naming {actor_name(actor)} at position "
                         f"{Position(count, rip, rcx)}" if frame is None
                         else describe(actor, frame, Position(count, rip, rcx)))
                raise e.at(where) from None

        for rtype, fields in values(self.reader, (_EVENT, _CONSTRAINT), prefix):
            self.last, self.kept = (), ((), None)
            if rtype == event_type:
                actor, old, new, frame, count, rip, rcx = _BRANCH_EVENT_VALUES(fields)
                try:
                    old, new = access[old], access[new]
                except KeyError:
                    raise unknown_state(actor, frame, Position(count, rip, rcx), old,
                                        new) from None
                at = number(actor, count, rip, rcx, frame)
                self.kept = sources.kept(frame)
                sources.event(actor, frame, old, new, (count, rip, rcx), at)
                self.last = ((actor, at, count, rip, rcx),)
                if extents is not None:
                    _extend(extents, actor, count)
                yield make(CrewEvent, (actor, frame, old, new, at))
            elif rtype == constraint_type:
                src, *src_position, dst, dst_count, dst_rip, dst_rcx = (
                    _BRANCH_CONSTRAINT_VALUES(fields))
                dst_position = (dst_count, dst_rip, dst_rcx)
                dst_at = number(dst, *dst_position, None)
                if src >= device_base:
                    if rips.get(src) != tuple(src_position[:2]):
                        _same_rip(rips, src, *src_position[:2], None)
                    src_at = src_position[0]
                elif src == dst:
                    src_at = dst_at   # the checker refuses an actor constrained by itself
                else:
                    src_at = source_ordinal(ordinals, sources, src, tuple(src_position),
                                            dst, dst_position)
                if extents is not None:
                    _extend(extents, src, src_position[0])
                    _extend(extents, dst, dst_count)
                self.last = ((src, src_at, *src_position), (dst, dst_at, *dst_position))
                yield make(Constraint, (src, src_at, dst, dst_at))
            else:
                for get in others[rtype]:
                    _extend(extents, *get(fields))
        self.last, self.kept = (), ((), None)

    def legend(self) -> str:
        """What the numbers of the item given out last stand for, as words; '' if nothing."""
        released, last_write = self.kept
        named = {(a, n): rec.Position(*p) for a, n, *p in self.last if a < ACTOR_DEVICE_BASE}
        for (actor, *position), n in [*released, *([last_write] if last_write else [])]:
            if actor < ACTOR_DEVICE_BASE:
                named[actor, n] = rec.Position(*position)
        if not named:
            return ""
        return ("; in the trace (BRANCH: positions numbered per vCPU in trace order), "
                + ", ".join(f"{actor_name(a)} position {n} is {p}"
                            for (a, n), p in sorted(named.items())))


def _extend(extents: dict[int, list[int]], actor: int, count: int) -> None:
    span = extents.get(actor)
    if span is None:
        extents[actor] = [count, count]
    elif count < span[0]:
        span[0] = count
    elif count > span[1]:
        span[1] = count


def _same_rip(rips: dict[int, tuple[int, int]], actor: int, count: int, rip: int,
              frame: int | None) -> None:
    """One position, one rip: compare with the latest position seen of the actor."""
    seen = rips.get(actor)
    if seen is None or count > seen[0]:
        rips[actor] = (count, rip)
    elif count == seen[0] and rip != seen[1]:
        where = (f"a constraint naming {actor_name(actor)} at position {count}" if frame is None
                 else describe(actor, frame, count))
        raise PositionError(f"{where}: rip {rip:#x}, but an earlier record puts "
                            f"position {count} at rip {seen[1]:#x}")


def records(items: Iterable[CrewEvent | Constraint], rip: int = 0) -> Iterator:
    """Trace records for model events and constraints, every position at `rip` (SYNC_ENTRY)."""
    state = STATE
    for item in items:
        if type(item) is CrewEvent:
            yield rec.CrewEvent(vcpu=item.actor, old_state=state[item.old],
                                new_state=state[item.new], gfn=item.frame,
                                position=rec.Position(item.position, rip))
        else:
            yield rec.Constraint(vcpu=item.dst, after_vcpu=item.src,
                                 position=rec.Position(item.dst_pos, rip),
                                 after_position=rec.Position(item.src_pos, rip))


def check_trace(path: Path) -> CheckSummary:
    """Check the CREW history of a trace file; a damaged or unclosed trace cannot pass."""
    summary, damage = _read(path, check)
    if damage is not None:
        raise damage
    return summary


def trace_sharing(path: Path, top: int) -> tuple[Sharing, TraceDamaged | None]:
    """The sharing analysis of a trace file, and what is wrong with the file if anything."""
    extents: dict[int, list[int]] = {}
    return _read(path, lambda history, mode: analyse(history, extents, top,
                                                     mode == PositionMode.BRANCH), extents)


def _read(path: Path, run: Callable[[Iterable, PositionMode], T],
          extents: dict[int, list[int]] | None = None) -> tuple[T, TraceDamaged | None]:
    """Run a pass over a trace's history; a protocol error in a damaged trace is blamed on the damage."""
    with TraceReader(path) as reader:
        history = None
        try:
            history = read_history(reader, extents)
            result = run(history, trace_position_mode(reader))
        except ModelError as e:
            if isinstance(history, BranchHistory) and history.legend():
                e = type(e)(f"{e}{history.legend()}")
            damage = reader.damage()
            if damage is not None:
                raise TraceDamaged(f"{damage}; so the CREW history is incomplete: {e}") from None
            raise e from None
        return result, reader.damage()
