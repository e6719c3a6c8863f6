"""clocks: dropping constraints that earlier ones imply (seeds/001 slide 10)."""

from hypothesis import given, settings

from tests.crew.sim.programs import recordings
from xenrr.crew.clocks import VectorClocks, reduce
from xenrr.crew.protocol import Constraint, requirements

P1, P2, P3 = 1, 2, 3


def test_the_slides_a_to_d_is_redundant_after_b_to_c():
    # Slide 10: P1 runs a then b, P2 runs c then d; b->c is needed, and with
    # it a->d holds already (a before b on P1, c before d on P2).
    a, b, c, d = 3, 4, 1, 2
    b_c, a_d = Constraint(P1, b, P2, c), Constraint(P1, a, P2, d)
    assert list(reduce([b_c, a_d])) == [b_c]


def test_a_to_c_does_not_imply_b_to_d():
    a_c, b_d = Constraint(P1, 3, P2, 1), Constraint(P1, 4, P2, 2)
    assert list(reduce([a_c, b_d])) == [a_c, b_d]


def test_knowledge_passes_along_a_chain_of_actors():
    chain = [Constraint(P1, 5, P2, 2), Constraint(P2, 3, P3, 7)]
    assert list(reduce(chain + [Constraint(P1, 5, P3, 7), Constraint(P1, 4, P3, 9)])) == chain


def test_what_an_actor_learns_at_a_position_is_not_known_on_arriving_there():
    # P2 learns of P1@5 when it leaves 2; whoever waits for P2 to arrive at 2
    # has not learnt it, whoever waits for P2 to arrive at 3 has.
    clocks = VectorClocks()
    clocks.add(P1, 5, P2, 2)
    clocks.add(P2, 2, P3, 1)
    assert not clocks.implied(P1, 5, P3)
    clocks.add(P2, 3, P3, 2)
    assert clocks.implied(P1, 5, P3)
    assert not clocks.implied(P1, 6, P3)


def test_an_actor_never_named_implies_nothing():
    clocks = VectorClocks()
    assert not clocks.implied(P1, 0, P2)
    clocks.add(P1, 1, P2, 1)
    assert not clocks.implied(P3, 0, P2)
    assert not clocks.implied(P1, 0, P3)
    assert clocks.keep(Constraint(P1, 1, P3, 1))
    assert not clocks.keep(Constraint(P1, 1, P3, 1))


def follows(kept: list[Constraint], c: Constraint) -> bool:
    """Brute force, no vector clocks: does arriving at (c.src, c.src_pos) precede leaving
    (c.dst, c.dst_pos) through program order and the constraints kept?

    From an arrival at (a, p), actor a arrives at every later position and
    leaves p and every later one; a constraint out of a position arrived at
    makes its destination leave there and arrive at the positions after it.
    """
    arrive = {c.src: c.src_pos}  # the first position of each actor arrived at
    leave = dict(arrive)         # the first position of each actor left
    changed = True
    while changed:
        changed = False
        for k in kept:
            if k.src in arrive and arrive[k.src] <= k.src_pos \
                    and leave.get(k.dst, k.dst_pos + 1) > k.dst_pos:
                leave[k.dst] = k.dst_pos
                arrive[k.dst] = min(arrive.get(k.dst, k.dst_pos + 1), k.dst_pos + 1)
                changed = True
    return c.dst in leave and leave[c.dst] <= c.dst_pos


@settings(max_examples=150, deadline=None)
@given(rec=recordings())
def test_reduction_drops_exactly_what_the_kept_constraints_imply(rec):
    kept: list[Constraint] = []
    for c in requirements(rec.events):
        if not follows(kept, c):
            kept.append(c)
    assert list(reduce(requirements(rec.events))) == kept == rec.constraints
