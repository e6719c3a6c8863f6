"""Trace records <-> model events and constraints (xenrr.formats, "crew_event", "constraint").

The model counts positions; a trace position is (count, rip), and the rip
only guards against divergence. So the model sees the count, and this
adapter checks the rip where it can: every record naming an actor at the
same count must name the same rip (one position is one instruction).

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
from xenrr.crew.protocol import ACCESS, STATE, Constraint, CrewEvent, describe, unknown_state
from xenrr.crew.sharing import Sharing, analyse
from xenrr.errors import ModelError
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
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


def _positioned() -> dict[int, list[Callable[[tuple], tuple[int, int]]]]:
    """Every other record whose fixed part carries positions: type -> (actor, count) getters."""
    table = {}
    for cls in rec.RECORD_CLASSES:
        if cls not in (_EVENT, _CONSTRAINT) and getattr(cls.CODEC, "body", None) is not None:
            getters = [itemgetter(*pair) for pair in positioned(cls)]
            if getters:
                table[cls.TYPE] = getters
    return table


def read_history(reader: TraceReader, extents: dict[int, list[int]] | None = None
                 ) -> Iterator[CrewEvent | Constraint]:
    """The model's view of a trace's crew_event and constraint records, in trace order.

    A bulk scan (formats.scan.values): other records are `xenrr log
    verify`'s business, except that with `extents`, every record carrying a
    position extends its actor's [first, last] position there.
    """
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
    """Trace records for model events and constraints, every position at `rip`."""
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
    summary, damage = _read(path, lambda reader: check(read_history(reader)))
    if damage is not None:
        raise damage
    return summary


def trace_sharing(path: Path, top: int) -> tuple[Sharing, TraceDamaged | None]:
    """The sharing analysis of a trace file, and what is wrong with the file if anything."""
    extents: dict[int, list[int]] = {}
    return _read(path, lambda reader: analyse(read_history(reader, extents), extents, top))


def _read(path: Path, run: Callable[[TraceReader], T]) -> tuple[T, TraceDamaged | None]:
    """Run a pass over a trace; a protocol error in a damaged trace is blamed on the damage."""
    with TraceReader(path) as reader:
        try:
            result = run(reader)
        except ModelError as e:
            damage = reader.damage()
            if damage is not None:
                raise TraceDamaged(f"{damage}; so the CREW history is incomplete: {e}") from None
            raise
        return result, reader.damage()
