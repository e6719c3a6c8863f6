"""Recording in the model: actors run under an interleaving through CREW.

This is the hypervisor's recording side in miniature (docs/architecture.md "CREW",
"Positions"), so that the ordering argument can be tested before the C code
exists: an access the actor's privilege does not allow is a CREW fault and a
synchronous entry (a new position); the faulting actor locks the frame and
asks each holder in its way for a reduction; a holder that is at a position
(waiting at a fault of its own, stopped, or a device between transactions)
is reduced there at once, a running one at its next position; when all have
given the frame up, the faulting actor is increased and re-executes. The
constraints each increase implies (protocol.Frame) are logged unless the vector
clocks already imply them (clocks.py).

The log lists events and constraints in the order they happened, each
increase preceded by the constraints logged for it: the order the checker
(checker.py) expects.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from xenrr.crew.clocks import VectorClocks
from xenrr.crew.protocol import Access, Constraint, CrewEvent, Frame
from xenrr.crew.sim.program import MemoryOp, Op, Read, Sync, execute


@dataclass(eq=False)
class Transition:
    """One CREW fault being resolved: the frame stays locked until `finish`."""

    actor: int
    frame: int
    want: Access
    waiting: set[int] = field(default_factory=set)


class Actor(ABC):
    """A CREW participant as the recorder sees it.

    `at_position` is true while the actor has done nothing since arriving at
    `position`: a reduction can then take effect there at once. `segments[q]`
    lists the accesses done between positions q and q + 1: the stream replay
    executes. `reads` are the values the actor's reads returned.
    """

    def __init__(self, actor: int) -> None:
        self.id = actor
        self.position = 0
        self.at_position = True
        self.done = False
        self.segments: list[list[MemoryOp]] = [[]]
        self.reads: list[int] = []

    @abstractmethod
    def runnable(self, rec: "Recorder") -> bool:
        """Whether `step` can make progress now."""

    @abstractmethod
    def step(self, rec: "Recorder") -> None:
        """Do one indivisible thing: an access, an entry, a fault or its end."""

    def enter(self, rec: "Recorder") -> None:
        """Arrive at the next position (a synchronous entry into Xen)."""
        self.position += 1
        self.segments.append([])
        rec.arrive(self)

    def perform(self, rec: "Recorder", op: MemoryOp) -> None:
        value = execute(op, rec.memory)
        if value is not None:
            self.reads.append(value)
        self.segments[-1].append(op)
        self.at_position = False


class Vcpu(Actor):
    """A vCPU running a program; it ends with a final entry (it blocks for good)."""

    def __init__(self, vcpu: int, program: Sequence[Op]) -> None:
        super().__init__(vcpu)
        self._program = program
        self._pc = 0
        self._fault: tuple[int, Access] | None = None
        self._transition: Transition | None = None

    def runnable(self, rec: "Recorder") -> bool:
        if self._transition is not None:
            return not self._transition.waiting
        if self._fault is not None:
            return not rec.locked(self._fault[0])
        return not self.done

    def step(self, rec: "Recorder") -> None:
        if self._transition is not None:
            rec.finish(self._transition)
            self._transition = None
            self._execute(rec)
        elif self._fault is not None:
            self._begin(rec)
        elif self._pc == len(self._program):
            self.enter(rec)
            self.done = True
        elif type(self._program[self._pc]) is Sync:
            self._pc += 1
            self.enter(rec)
        else:
            op = self._program[self._pc]
            need = Access.READ if type(op) is Read else Access.WRITE
            if rec.frame(op.frame).access(self.id) >= need:
                self._execute(rec)
                return
            self.enter(rec)
            self._fault = (op.frame, need)
            if not rec.locked(op.frame):
                self._begin(rec)

    def _begin(self, rec: "Recorder") -> None:
        frame, want = self._fault
        self._fault = None
        t = rec.begin(self, frame, want)
        if t.waiting:
            self._transition = t
        else:
            rec.finish(t)
            self._execute(rec)

    def _execute(self, rec: "Recorder") -> None:
        self.perform(rec, self._program[self._pc])
        self._pc += 1


@dataclass(frozen=True)
class Recording:
    """What recording produced: the log, and what replay must reproduce."""

    log: list[CrewEvent | Constraint]
    required: int
    streams: dict[int, list[list[MemoryOp]]]
    reads: dict[int, list[int]]
    memory: dict[tuple[int, int], int]

    @property
    def constraints(self) -> list[Constraint]:
        return [c for c in self.log if type(c) is Constraint]

    @property
    def events(self) -> list[CrewEvent]:
        return [e for e in self.log if type(e) is CrewEvent]


class Recorder:
    def __init__(self, actors: Sequence[Actor]) -> None:
        self.actors = {a.id: a for a in actors}
        self.frames: dict[int, Frame] = {}
        self.memory: dict[tuple[int, int], int] = {}
        self.log: list[CrewEvent | Constraint] = []
        self.required = 0
        self._clocks = VectorClocks()
        self._requests: dict[int, list[tuple[Transition, Access]]] = {a.id: [] for a in actors}
        self._locks: dict[int, Transition] = {}

    def run(self, choose: Callable[[list[Actor]], Actor]) -> Recording:
        """Step actors picked by `choose` among the runnable ones until all are done."""
        actors = list(self.actors.values())
        while ready := [a for a in actors if a.runnable(self)]:
            choose(ready).step(self)
        assert all(a.done for a in actors), "recording stopped with actors left waiting"
        return Recording(self.log, self.required,
                         {a.id: a.segments for a in actors},
                         {a.id: a.reads for a in actors}, self.memory)

    def frame(self, number: int) -> Frame:
        fr = self.frames.get(number)
        if fr is None:
            fr = self.frames[number] = Frame(number)
        return fr

    def locked(self, frame: int) -> bool:
        return frame in self._locks

    def arrive(self, actor: Actor) -> None:
        """The actor is at a new position: reductions asked of it happen here."""
        actor.at_position = True
        requests = self._requests[actor.id]
        for t, new in requests:
            self._reduce(actor, t.frame, new)
            t.waiting.discard(actor.id)
        requests.clear()

    def begin(self, actor: Actor, frame: int, want: Access) -> Transition:
        """Lock `frame` and ask every holder in the way of `want` to give it up."""
        t = Transition(actor.id, frame, want)
        self._locks[frame] = t
        for victim, new in self.frame(frame).victims(actor.id, want):
            v = self.actors[victim]
            if v.at_position:
                self._reduce(v, frame, new)
            else:
                t.waiting.add(victim)
                self._requests[victim].append((t, new))
        return t

    def finish(self, t: Transition) -> None:
        """Increase the faulting actor once every victim has given the frame up."""
        fr = self.frames[t.frame]
        position = self.actors[t.actor].position
        old = fr.access(t.actor)
        for src, src_pos in fr.apply(t.actor, old, t.want, position):
            self.required += 1
            c = Constraint(src, src_pos, t.actor, position)
            if self._clocks.keep(c):
                self.log.append(c)
        self.log.append(CrewEvent(t.actor, t.frame, old, t.want, position))
        del self._locks[t.frame]

    def _reduce(self, victim: Actor, frame: int, new: Access) -> None:
        fr = self.frames[frame]
        old = fr.access(victim.id)
        fr.apply(victim.id, old, new, victim.position)
        self.log.append(CrewEvent(victim.id, frame, old, new, victim.position))


def scripted(order: Iterable[int]) -> Callable[[list[Actor]], Actor]:
    """An interleaving written out: the actors with these ids, in this order.

    When the script is used up, the runnable actor with the lowest id goes,
    so a short script fixes only the steps a scenario is about.
    """
    script = iter(order)

    def choose(ready: list[Actor]) -> Actor:
        actor = next(script, None)
        if actor is None:
            return min(ready, key=lambda a: a.id)
        for a in ready:
            if a.id == actor:
                return a
        raise ValueError(f"the script names actor {actor}, which cannot run now")

    return choose
