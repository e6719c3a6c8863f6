"""The constraints a log of CREW events implies, derived as the model's recorder derives them.

Xen logs only crew_event records. Which earlier reductions an increase must
be ordered after follows from the events alone (protocol.Frame.apply), and the
vector clocks drop those already implied (clocks.VectorClocks.keep): what
the simulated recorder does (sim/recording.py, Recorder.finish), here fed the events Xen logged, in the order
Xen applied them (their seq order). The output is the trace order the
checker expects (history.py): each increase after the constraints kept for it.

The model runs on integer positions (positions.py): the count in
SYNC_ENTRY mode; in BRANCH mode each vCPU's distinct (count, rip, rcx)
numbered in the order its events come, which must be an order an execution
can have (PositionError otherwise). A constraint record names the trace
positions themselves: its `position` is the increase's, and its
`after_position` the one Xen logged with the reduction it follows. Those
reductions are of the same frame, and its Frame still refers to them
(`released`, `last_write`), so each frame keeps the trace positions of
exactly the positions its Frame refers to.
"""

from xenrr.errors import ModelError
from xenrr.formats import records as rec
from xenrr.formats.enums import ACTOR_DEVICE_BASE, PositionMode
from xenrr.crew.actors import actor_name
from xenrr.crew.clocks import VectorClocks
from xenrr.crew.positions import Ordinals, Unordered, position_mode as known_mode
from xenrr.crew.protocol import ACCESS, Constraint, Frame, describe, unknown_state


# Bits of an event's point left for its number among the events at its position.
_EVENT_BITS = 24
# Events fed between two prunings of the counts kept for positions a vCPU has left.
_PRUNE_EVERY = 1 << 16


class ConstraintDeriver:
    """Feed it Xen's crew_events in seq order; it gives the records to write.

    position_mode: the trace_header's, which says what a position is.
    """

    def __init__(self, position_mode: PositionMode = PositionMode.SYNC_ENTRY) -> None:
        self._frames: dict[int, Frame] = {}
        self._positions: dict[int, dict[tuple[int, int], rec.Position]] = {}
        self._clocks = VectorClocks()
        mode = known_mode(position_mode)
        self._ordinals = Ordinals() if mode == PositionMode.BRANCH else None
        # BRANCH: actor -> (ordinal of its last event, its events at that ordinal)
        self._at: dict[int, tuple[int, int]] = {}
        # BRANCH: actor -> {ordinal it has left: number of its last event there}, for the
        # positions that held several events and a frame still refers to (see _prune)
        self._left: dict[int, dict[int, int]] = {}
        self._fed = 0

    def _event_at(self, actor: int, ordinal: int) -> int:
        """The point of an actor's event among its events: its position's ordinal, then how
        many of its events there came before it.

        Several events at one position are the rule where Xen acts for a vCPU standing there
        (a frame given up and taken back while it waits on a fault, events published there,
        patch 0020). A constraint naming the position means the events there so far, as
        replay counts them, so one kept for an earlier event there does not imply one for a
        later event.
        """
        last, n = self._at.get(actor, (ordinal, -1))
        if last == ordinal:
            n += 1
        else:
            if n > 0:
                self._left.setdefault(actor, {})[last] = n
            n = 0
        self._at[actor] = (ordinal, n)
        return (ordinal << _EVENT_BITS) | n

    def _passed(self, src: int, src_at: int) -> int:
        """What a constraint naming the position of src's event src_at has src pass: all its
        events there so far (in SYNC_ENTRY mode, the position itself)."""
        if self._ordinals is None or src >= ACTOR_DEVICE_BASE:
            return src_at
        ordinal = src_at >> _EVENT_BITS
        last, n = self._at[src]
        if last != ordinal:
            n = self._left.get(src, {}).get(ordinal, 0)
        return (ordinal << _EVENT_BITS) | n

    def _prune(self) -> None:
        """Forget the counts at positions no frame refers to any more: only a frame's
        references (released, last_write) become constraint sources, so memory stays
        bounded by the frames, not by the length of the recording."""
        kept: dict[int, dict[int, int]] = {}
        for refs in self._positions.values():
            for src, src_at in refs:
                ordinal = src_at >> _EVENT_BITS
                n = self._left.get(src, {}).get(ordinal)
                if n is not None:
                    kept.setdefault(src, {})[ordinal] = n
        self._left = kept

    def feed(self, event: rec.CrewEvent) -> list:
        """The records to write for the next event: the constraints kept for it, then it.

        Raises IllegalTransition or PositionError (ModelError) for an event
        the protocol does not allow after the ones fed before.
        """
        actor, gfn, position = event.vcpu, event.gfn, event.position
        branch = self._ordinals is not None and actor < ACTOR_DEVICE_BASE
        try:
            old, new = ACCESS[event.old_state], ACCESS[event.new_state]
        except KeyError:
            raise unknown_state(actor, gfn, position if branch else position.count,
                                event.old_state, event.new_state) from None
        if branch:
            try:
                at = self._event_at(actor, self._ordinals.visit(actor, *position))
            except Unordered as e:
                raise e.at(describe(actor, gfn, position)) from None
        else:
            at = position.count
        fr = self._frames.get(gfn)
        if fr is None:
            fr = self._frames[gfn] = Frame(gfn, self._ordinals is not None)
        positions = self._positions.get(gfn, {})
        positions[(actor, at)] = position
        out = []
        try:
            sources = fr.apply(actor, old, new, at)
        except ModelError as e:
            if not branch:
                raise
            raise type(e)(f"{e}; in the trace (BRANCH: positions numbered per vCPU in "
                          f"the order of its events), {actor_name(actor)} position {at} is "
                          f"{position}") from None
        for src, src_at in sources:
            if self._clocks.keep(Constraint(src, self._passed(src, src_at), actor, at)):
                out.append(rec.Constraint(vcpu=actor, after_vcpu=src, position=position,
                                          after_position=positions[(src, src_at)]))
        out.append(event)
        refs = [*fr.released, fr.last_write] if fr.last_write else fr.released
        self._positions[gfn] = {ref: positions[ref] for ref in refs}
        self._fed += 1
        if branch and self._fed % _PRUNE_EVERY == 0:
            self._prune()
        return out
