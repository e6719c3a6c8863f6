"""Replay ordering: when an actor at a position may go on.

During replay an actor at position q may pass it (do anything after q) only
once every actor j named by a logged constraint (j, p) -> (i, q) has arrived
at p (docs/architecture.md "Replay path"). Nothing else is ordered: between
positions the actors run freely.

A log is rejected before replay starts if it could never be satisfied: a
constraint naming a position its actor never reaches (its stream ends
before), or constraints that wait on each other in a cycle. Without a cycle,
an actor that may not pass waits on one that has not arrived yet, which
waits on one further back, and so on; with finitely many actors that chain
ends at an actor free to run, so replay never deadlocks.
"""

from collections.abc import Iterable, Mapping

from xenrr.crew.actors import actor_name
from xenrr.crew.protocol import Constraint, describe_constraint
from xenrr.crew.errors import ConstraintCycle, UnreachablePosition


class ReplaySchedule:
    """The logged constraints, indexed by the position they hold an actor at."""

    def __init__(self, last: Mapping[int, int], constraints: Iterable[Constraint]) -> None:
        """`last[a]` is the last position actor a's stream reaches (streams start at 0)."""
        self._waits: dict[tuple[int, int], list[tuple[int, int]]] = {}
        constraints = list(constraints)
        for c in constraints:
            _check_reachable(last, c.src, c.src_pos, c)
            _check_reachable(last, c.dst, c.dst_pos, c)
            self._waits.setdefault((c.dst, c.dst_pos), []).append((c.src, c.src_pos))
        _check_acyclic(constraints)

    def may_pass(self, actor: int, position: int, reached: Mapping[int, int]) -> bool:
        """Whether `actor` may go past `position`, given where every actor has arrived."""
        for src, src_pos in self._waits.get((actor, position), ()):
            if reached[src] < src_pos:
                return False
        return True


def _check_reachable(last: Mapping[int, int], actor: int, position: int,
                     c: Constraint) -> None:
    end = last.get(actor)
    if end is None:
        raise UnreachablePosition(f"{describe_constraint(c)}: {actor_name(actor)} has no stream")
    if not 0 <= position <= end:
        raise UnreachablePosition(
            f"{describe_constraint(c)}: {actor_name(actor)} never reaches position "
            f"{position} (its stream ends at {end})")


def _check_acyclic(constraints: list[Constraint]) -> None:
    """Kahn's algorithm over arrive/leave points of the positions named.

    Node 2k is "arrive at the k-th named (actor, position)", 2k + 1 "leave
    it". Edges: arrive -> leave of one position, leave -> arrive of the
    actor's next named position, and arrive (src) -> leave (dst) for each
    constraint.
    """
    named = sorted({(c.src, c.src_pos) for c in constraints}
                   | {(c.dst, c.dst_pos) for c in constraints})
    index = {point: k for k, point in enumerate(named)}
    preds: list[list[tuple[int, Constraint | None]]] = [[] for _ in range(2 * len(named))]
    for k, (actor, _) in enumerate(named):
        preds[2 * k + 1].append((2 * k, None))
        if k and named[k - 1][0] == actor:
            preds[2 * k].append((2 * k - 1, None))
    for c in constraints:
        preds[2 * index[c.dst, c.dst_pos] + 1].append((2 * index[c.src, c.src_pos], c))
    succs: list[list[int]] = [[] for _ in preds]
    for node, ps in enumerate(preds):
        for p, _ in ps:
            succs[p].append(node)
    indegree = [len(ps) for ps in preds]
    ready = [n for n, d in enumerate(indegree) if d == 0]
    while ready:
        for s in succs[ready.pop()]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    stuck = [n for n, d in enumerate(indegree) if d]
    if stuck:
        raise ConstraintCycle("constraints form a cycle: "
                              + "; ".join(map(describe_constraint, _cycle(stuck[0], preds, indegree))))


def _cycle(node: int, preds: list[list[tuple[int, Constraint | None]]],
           indegree: list[int]) -> list[Constraint]:
    """Walk back through unresolved predecessors until a node repeats."""
    seen: dict[int, int] = {}
    path: list[tuple[int, Constraint | None]] = []
    while node not in seen:
        seen[node] = len(path)
        node, via = next((p, c) for p, c in preds[node] if indegree[p])
        path.append((node, via))
    loop = path[seen[node]:]
    return [c for _, c in reversed(loop) if c is not None]
