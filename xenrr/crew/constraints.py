"""The constraints a log of CREW events implies, derived as the model's recorder derives them.

Xen logs only crew_event records. Which earlier reductions an increase must
be ordered after follows from the events alone (protocol.Frame.apply), and the
vector clocks drop those already implied (clocks.VectorClocks.keep): what
the simulated recorder does (sim/recording.py, Recorder.finish), here fed the events Xen logged, in the order
Xen applied them (their seq order). The output is the trace order the
checker expects (history.py): each increase after the constraints kept for it.

A constraint names a position of the actor waited for, and a trace position
carries the rip of that point; the rip is the one Xen logged with the event
at that position. Those events are reductions of the same frame that its
Frame still refers to (`released`, `last_write`), so each frame keeps the
rips of exactly the positions its Frame refers to.
"""

from xenrr.formats import records as rec
from xenrr.crew.clocks import VectorClocks
from xenrr.crew.protocol import ACCESS, Constraint, Frame, unknown_state


class ConstraintDeriver:
    def __init__(self) -> None:
        self._frames: dict[int, Frame] = {}
        self._rips: dict[int, dict[tuple[int, int], int]] = {}
        self._clocks = VectorClocks()

    def feed(self, event: rec.CrewEvent) -> list:
        """The records to write for the next event: the constraints kept for it, then it.

        Raises IllegalTransition or PositionError (ModelError) for an event
        the protocol does not allow after the ones fed before.
        """
        actor, gfn, (count, rip, _) = event.vcpu, event.gfn, event.position
        try:
            old, new = ACCESS[event.old_state], ACCESS[event.new_state]
        except KeyError:
            raise unknown_state(actor, gfn, count, event.old_state, event.new_state) from None
        fr = self._frames.get(gfn)
        if fr is None:
            fr = self._frames[gfn] = Frame(gfn)
        rips = self._rips.get(gfn, {})
        rips[(actor, count)] = rip
        out = []
        for src, src_pos in fr.apply(actor, old, new, count):
            if self._clocks.keep(Constraint(src, src_pos, actor, count)):
                out.append(rec.Constraint(vcpu=actor, after_vcpu=src, position=event.position,
                                          after_position=rec.Position(src_pos,
                                                                      rips[(src, src_pos)])))
        out.append(event)
        refs = [*fr.released, fr.last_write] if fr.last_write else fr.released
        self._rips[gfn] = {ref: rips[ref] for ref in refs}
        return out
