"""clocks: dropping constraints that earlier ones imply (seeds/001 slide 10)."""

from xenrr.shadow.clocks import VectorClocks, reduce
from xenrr.shadow.crew import Constraint

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
