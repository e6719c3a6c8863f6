"""Sharing analysis: where CREW costs, and between whom.

Every CREW event is a fault or a wait in the hypervisor, so a recording's
cost follows the frames with the most events and the pairs of actors that
hand a frame back and forth (ping-pong: false or true sharing at page
granularity, seeds/001 slide 19). A handover is an increase ordered after
another actor's reduction or write (protocol.Frame.apply); a pair ping-pongs on
a frame when handovers go both ways.

An actor's rate is its CREW events per 10^6 positions over the span of
positions its records cover in the trace: of counts, so in a BRANCH trace
per 10^6 retired conditional branches.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from xenrr.crew.actors import actor_name
from xenrr.crew.protocol import Constraint, CrewEvent, Frame


class PingPong(NamedTuple):
    first: int
    second: int
    handovers: int  # both ways


class FrameSharing(NamedTuple):
    frame: int
    events: int
    pingpong: list[PingPong]  # most handovers first


class ActorSharing(NamedTuple):
    actor: int
    events: int
    positions: int  # last position minus first in the trace
    per_million: float | None  # events per 10^6 positions; None over a span of 0

    def json(self) -> dict:
        return {"actor": self.actor, "name": actor_name(self.actor), "events": self.events,
                "positions": self.positions, "per_million": self.per_million}


class Sharing(NamedTuple):
    events: int
    frames: int
    top: list[FrameSharing]  # the frames with the most events, most first
    actors: list[ActorSharing]  # by actor id

    def json(self) -> dict:
        return {"events": self.events, "frames": self.frames,
                "top": [{"frame": f.frame, "events": f.events,
                         "pingpong": [{"actors": [p.first, p.second], "handovers": p.handovers}
                                      for p in f.pingpong]}
                        for f in self.top],
                "actors": [a.json() for a in self.actors]}


def analyse(history: Iterable[CrewEvent | Constraint],
            extents: Mapping[int, Sequence[int]], top: int = 10,
            reduce_where_gained: bool = False) -> Sharing:
    """Sharing of a CREW history; `extents[actor]` is (first, last) position in the trace.

    `extents` is read only once `history` is used up, so a reader may fill
    it while it produces the history.
    """
    frames: dict[int, Frame] = {}
    per_frame: Counter[int] = Counter()
    per_actor: Counter[int] = Counter()
    handovers: dict[int, Counter[tuple[int, int]]] = {}
    for item in history:
        if type(item) is not CrewEvent:
            continue
        actor, frame, old, new, position = item
        per_frame[frame] += 1
        per_actor[actor] += 1
        fr = frames.get(frame)
        if fr is None:
            fr = frames[frame] = Frame(frame, reduce_where_gained)
        sources = fr.apply(actor, old, new, position)
        if sources:
            pairs = handovers.setdefault(frame, Counter())
            for src, _ in sources:
                pairs[src, actor] += 1
    ranked = sorted(per_frame.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return Sharing(
        events=sum(per_frame.values()), frames=len(per_frame),
        top=[FrameSharing(f, n, _pingpong(handovers.get(f, Counter()))) for f, n in ranked],
        actors=[_rate(a, per_actor[a], extents.get(a)) for a in sorted(set(per_actor) | set(extents))])


def _pingpong(pairs: Counter[tuple[int, int]]) -> list[PingPong]:
    found = [PingPong(a, b, n + pairs[b, a]) for (a, b), n in pairs.items()
             if a < b and pairs[b, a]]
    return sorted(found, key=lambda p: (-p.handovers, p.first, p.second))


def _rate(actor: int, events: int, extent: Sequence[int] | None) -> ActorSharing:
    span = extent[1] - extent[0] if extent else 0
    return ActorSharing(actor, events, span, events * 1e6 / span if span else None)
