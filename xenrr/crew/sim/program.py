"""What the model's actors execute: reads and writes of words of guest frames.

A model program is the smallest thing that exhibits the ordering requirement
(seeds/001 slides 8-9): actors reading and writing words of a few shared
frames. A frame holds several words so that two actors can share a frame
without sharing data (false sharing, slide 19), which CREW must order anyway.
`Sync` is a synchronous entry into Xen that is not a CREW fault (a hypercall):
it gives the actor a position at which pending reductions take effect.
"""

from typing import NamedTuple


class Read(NamedTuple):
    frame: int
    word: int


class Write(NamedTuple):
    frame: int
    word: int
    value: int


class Sync(NamedTuple):
    pass


MemoryOp = Read | Write
Op = Read | Write | Sync


def execute(op: MemoryOp, memory: dict[tuple[int, int], int]) -> int | None:
    """Perform one access on `memory`; a read returns the value it saw."""
    if type(op) is Read:
        return memory.get((op.frame, op.word), 0)
    memory[op.frame, op.word] = op.value
    return None
