"""Replay in the model: the recorded streams under the logged constraints only.

Replay does not run CREW: it executes each actor's stream (the accesses it
made between consecutive positions when recording) one access at a time,
picking any actor the schedule lets pass its position. If the logged
(reduced) constraints carry the ordering requirement (seeds/001 slide 9),
every read returns what it returned when recording and memory ends the same,
whatever the pick.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from xenrr.crew.protocol import Constraint
from xenrr.crew.sim.program import MemoryOp, execute
from xenrr.crew.sim.schedule import ReplaySchedule


class Replayed(NamedTuple):
    reads: dict[int, list[int]]
    memory: dict[tuple[int, int], int]


def replay(streams: Mapping[int, Sequence[Sequence[MemoryOp]]],
           constraints: Sequence[Constraint],
           choose: Callable[[list[int]], int]) -> Replayed:
    """Run `streams[a][q]` (actor a's accesses after position q) in a chosen order."""
    last = {a: len(s) - 1 for a, s in streams.items()}
    schedule = ReplaySchedule(last, constraints)
    position = dict.fromkeys(streams, 0)
    done = dict.fromkeys(streams, 0)
    memory: dict[tuple[int, int], int] = {}
    reads: dict[int, list[int]] = {a: [] for a in streams}
    while ready := [a for a in streams if position[a] < last[a]
                    and schedule.may_pass(a, position[a], position)]:
        a = choose(ready)
        segment = streams[a][position[a]]
        if done[a] < len(segment):
            value = execute(segment[done[a]], memory)
            if value is not None:
                reads[a].append(value)
            done[a] += 1
        else:
            position[a] += 1
            done[a] = 0
    return Replayed(reads, memory)
