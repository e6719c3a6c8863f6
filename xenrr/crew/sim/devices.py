"""A DMA device as a CREW actor (seeds/001 slide 15).

A device reads and writes guest memory directly and an IOMMU cannot fault,
fix up and re-execute, so SMP-ReVirt treats the device as one more processor
that is not preemptible: each DMA transaction takes Exclusive-Write on all
its frames before it starts and holds them for its whole duration; a
reduction asked of it meanwhile takes effect only after the transaction.
Its position is its transaction sequence: transaction s runs between
positions s and s + 1, so a vCPU that needs a frame back waits for the
device to arrive at s + 1, and replay orders the device's writes against the
vCPUs through the same constraints as any other actor's.
"""

from collections.abc import Sequence

from xenrr.crew.actors import device_actor
from xenrr.crew.protocol import Access
from xenrr.crew.sim.program import MemoryOp
from xenrr.crew.sim.recording import Actor, Recorder, Transition

Transaction = Sequence[MemoryOp]


def frames_of(transaction: Transaction) -> list[int]:
    return sorted({op.frame for op in transaction})


class Device(Actor):
    """Runs its transactions in order; between them it is always at a position."""

    def __init__(self, index: int, transactions: Sequence[Transaction]) -> None:
        super().__init__(device_actor(index))
        self._transactions = transactions
        self._taking: list[Transition] | None = None
        self.done = not transactions

    def runnable(self, rec: Recorder) -> bool:
        if self._taking is not None:
            return not any(t.waiting for t in self._taking)
        return not self.done and not any(
            rec.locked(f) for f in frames_of(self._transactions[self.position]))

    def step(self, rec: Recorder) -> None:
        if self._taking is None:
            self.at_position = False
            self._taking = [
                rec.begin(self, f, Access.WRITE)
                for f in frames_of(self._transactions[self.position])
                if rec.frame(f).access(self.id) != Access.WRITE]
            if any(t.waiting for t in self._taking):
                return
        for t in self._taking:
            rec.finish(t)
        self._taking = None
        for op in self._transactions[self.position]:
            self.perform(rec, op)
        self.enter(rec)
        self.done = self.position == len(self._transactions)
