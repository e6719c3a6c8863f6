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

from xenrr.errors import ModelError
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.formats.enums import CrewState
from xenrr.formats.errors import RecordError, TraceDamaged
from xenrr.formats.framing import walk
from xenrr.formats.recordtype import RECORD_HEADER
from xenrr.formats.rectypes import type_name
from xenrr.crew.actors import actor_name
from xenrr.crew.checker import CheckSummary, check
from xenrr.crew.protocol import Access, Constraint, CrewEvent, describe
from xenrr.crew.errors import IllegalTransition, PositionError
from xenrr.crew.sharing import Sharing, analyse

T = TypeVar("T")

# A crew_event's states as the model's accesses, and back.
ACCESS = {CrewState.NONE: Access.NONE, CrewState.CR: Access.READ, CrewState.EW: Access.WRITE}
_STATE = {access: state for state, access in ACCESS.items()}
_STATES = ", ".join(f"{s.value} ({s.name})" for s in CrewState)


def unknown_state(actor: int, frame: int, count: int, old: int, new: int) -> IllegalTransition:
    """The error for a crew_event whose old or new state is not a CREW state."""
    return IllegalTransition(f"{describe(actor, frame, count)}: CREW state {old}->{new} is not "
                             f"one of {_STATES}")
_EVENT, _CONSTRAINT = rec.CrewEvent, rec.Constraint


def _flat(cls, *names: str) -> Callable[[tuple], tuple]:
    """Pick members out of a record's flat struct values by their spec names."""
    return itemgetter(*(cls.LAYOUT.flat_names.index(n) for n in names))


_EVENT_VALUES = _flat(_EVENT, "vcpu", "old_state", "new_state", "gfn",
                      "position.count", "position.rip")
_CONSTRAINT_VALUES = _flat(_CONSTRAINT, "after_vcpu", "after_position.count",
                           "after_position.rip", "vcpu", "position.count", "position.rip")


def _bodies(extents: bool) -> dict[int, tuple[int, bool, Callable, list]]:
    """The records read_history unpacks: type -> (fixed size, exact, unpacker, getters).

    crew_event and constraint have exactly their fixed size. With extents,
    also every other record with a fixed part carrying positions, with its
    (actor, count) getters, derived from the definitions (records.py
    conventions: the actor id is the first member; `after_position` belongs
    to `after_vcpu`).
    """
    table = {cls.TYPE: (cls.CODEC.size, True, cls.CODEC.body.unpack_from, [])
             for cls in (_EVENT, _CONSTRAINT)}
    for cls in rec.RECORD_CLASSES if extents else ():
        names = cls.LAYOUT.flat_names
        body = getattr(cls.CODEC, "body", None)
        if cls.TYPE in table or body is None:
            continue
        getters = []
        for name in names:
            if name.endswith("position.count"):
                prefix = name.removesuffix("position.count")
                actor = f"{prefix}vcpu" if prefix else names[0]
                getters.append(itemgetter(names.index(actor), names.index(name)))
        if getters:
            table[cls.TYPE] = (cls.CODEC.size, False, body.unpack_from, getters)
    return table


def read_history(reader: TraceReader, extents: dict[int, list[int]] | None = None
                 ) -> Iterator[CrewEvent | Constraint]:
    """The model's view of a trace's crew_event and constraint records, in trace order.

    A bulk scan (spec "Bulk scans"): each chunk is walked once and only the
    fixed-size bodies of the records needed are unpacked, with their codecs'
    own structs. Other records are `xenrr log verify`'s business, except
    that with `extents`, every record carrying a position extends its
    actor's [first, last] position there.
    """
    bodies = _bodies(extents is not None)
    event_type, constraint_type = _EVENT.TYPE, _CONSTRAINT.TYPE
    header = RECORD_HEADER.size
    rips: dict[int, tuple[int, int]] = {}
    access = ACCESS
    make = tuple.__new__  # what NamedTuple._make does, without its extra call
    for chunk in reader.chunks():
        data = chunk.data
        try:
            for offset, rtype, length in walk(data):
                body = bodies.get(rtype)
                if body is None:
                    continue
                size, exact, unpack, getters = body
                if length != size and (exact or length < size):
                    raise RecordError(f"{type_name(rtype)} at +{offset:#x}: expected a body of "
                                      f"{'' if exact else 'at least '}{size} bytes, got {length}")
                values = unpack(data, offset + header)
                if rtype == event_type:
                    actor, old, new, frame, count, rip = _EVENT_VALUES(values)
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
                    src, src_pos, src_rip, dst, dst_pos, dst_rip = _CONSTRAINT_VALUES(values)
                    if rips.get(src) != (src_pos, src_rip):
                        _same_rip(rips, src, src_pos, src_rip, None)
                    if rips.get(dst) != (dst_pos, dst_rip):
                        _same_rip(rips, dst, dst_pos, dst_rip, None)
                    if extents is not None:
                        _extend(extents, src, src_pos)
                        _extend(extents, dst, dst_pos)
                    yield make(Constraint, (src, src_pos, dst, dst_pos))
                else:
                    for get in getters:
                        _extend(extents, *get(values))
        except RecordError as e:
            raise type(e)(f"{reader.path}: chunk {chunk.sequence} at {chunk.offset:#x}: {e}") from None


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
    state = _STATE
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
