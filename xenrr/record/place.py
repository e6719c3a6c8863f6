"""Giving changes forced on a vCPU the position Xen tells only later (trace-format.md, crew_place).

Xen logs a forced change when it makes it, in its place in the sequence,
with a position of all zeros: the vCPU has not reached the position where
the change takes effect. A crew_place of that vCPU, logged once it has,
gives the position to all its forced changes since the previous one. Until
then the placer holds every record from the first unplaced change on, so
that the records leave it in sequence order, as they came in. Holding costs
memory only while a forced vCPU stays away from a position; Xen itself
keeps nothing for it.

In BRANCH mode every entry into Xen is a position (interrupts and IPIs
included) and Xen logs almost every change with its own; it forces a
holder only for its own accesses (a hypercall's copy to the guest, which
cannot wait for a holder running in Xen), and the crew_place then names
where an interrupt or the holder's next entry stopped it. A count of 0 is a
real BRANCH position (no conditional branch run yet), so a change waits for
its place when its whole position is zero: a real position has a rip.
"""

from collections import deque

from xenrr.formats import records as rec
from xenrr.rrdomain.rings import RingProtocolError

_PLACE, _EVENT = rec.CrewPlace, rec.CrewEvent


class Placer:
    def __init__(self) -> None:
        self._held: deque[list] = deque()          # [record, placed] in sequence order
        self._unplaced: dict[int, list[list]] = {}  # vcpu -> its held forced changes

    def add(self, record) -> list:
        """The records ready to be written after `record`, in sequence order, positions given."""
        rtype = type(record)
        if rtype is _PLACE:
            self._place(record)
        elif rtype is _EVENT and record.position.count == 0 and record.position.rip == 0:
            slot = [record, False]
            self._held.append(slot)
            self._unplaced.setdefault(record.vcpu, []).append(slot)
        elif self._held:
            self._held.append([record, True])
        else:
            return [record]
        return self._ready()

    def _place(self, place) -> None:
        slots = self._unplaced.pop(place.vcpu, None)
        if slots is None:
            raise RingProtocolError(f"crew_place of vCPU {place.vcpu} at {place.position}, "
                                    "but no change was forced on it")
        for slot in slots:
            slot[0], slot[1] = slot[0]._replace(position=place.position,
                                                registers=place.registers), True

    def _ready(self) -> list:
        held, out = self._held, []
        while held and held[0][1]:
            out.append(held.popleft()[0])
        return out

    def finish(self) -> None:
        """After the last drain: RingProtocolError if a forced change was never placed."""
        if self._unplaced:
            vcpus = ", ".join(f"vCPU {v} ({len(s)})" for v, s in sorted(self._unplaced.items()))
            raise RingProtocolError(f"changes forced on {vcpus} were never placed: "
                                    "the trace would lack their positions")
