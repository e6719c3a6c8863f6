"""Putting the entries of every vCPU's ring back into the order Xen applied them.

Xen numbers a domain's log entries with one dense sequence (0, 1, 2, ...)
across all its rings, in the order it applied the CREW changes; the
checker and the constraint deriver need exactly that order. A ring is
drained at some moment while another vCPU may already have published a
later entry, so entries arrive out of order: the merger hands out only the
contiguous run from the next expected seq and holds the rest. A seq that
never arrives is reported at the end (finish), never skipped.
"""

from xenrr.rrdomain.rings import RingProtocolError


class SeqMerger:
    def __init__(self) -> None:
        self.next_seq = 0
        self._held: dict[int, tuple[int, int, bytes]] = {}

    def add(self, entries: list[tuple[int, int, bytes]]) -> None:
        held = self._held
        for entry in entries:
            seq = entry[0]
            if seq < self.next_seq or seq in held:
                raise RingProtocolError(f"seq {seq} was logged twice")
            held[seq] = entry

    def ready(self) -> list[tuple[int, int, bytes]]:
        """The held entries from next_seq on without a gap, in seq order."""
        held = self._held
        out = []
        while self.next_seq in held:
            out.append(held.pop(self.next_seq))
            self.next_seq += 1
        return out

    def finish(self) -> None:
        """After the last drain: RingProtocolError if entries wait behind a seq never logged."""
        if self._held:
            later = sorted(self._held)
            raise RingProtocolError(
                f"seq {self.next_seq} never arrived: {len(later)} later entries (seq "
                f"{later[0]} to {later[-1]}) could not be written in order")
