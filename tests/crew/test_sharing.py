"""shadow.sharing: frames by CREW events, ping-pong pairs, rates per actor."""

from tests.crew.traces import DEV, PINGPONG, E, N, R, W, X, Y, Z
from xenrr.crew.sharing import ActorSharing, FrameSharing, PingPong, Sharing, analyse


def test_frames_pairs_and_rates():
    extents = {0: [1, 4], 1: [1, 100], DEV: [0, 1], 3: [7, 7]}
    assert analyse(PINGPONG, extents) == Sharing(
        events=9, frames=3,
        top=[FrameSharing(X, 5, [PingPong(0, 1, 2)]), FrameSharing(Z, 3, []),
             FrameSharing(Y, 1, [])],
        actors=[ActorSharing(0, 4, 3, 4e6 / 3), ActorSharing(1, 3, 99, 3e6 / 99),
                ActorSharing(3, 0, 0, None), ActorSharing(DEV, 2, 1, 2e6)])


def test_handovers_one_way_are_no_ping_pong_and_pairs_rank_by_handovers():
    # vCPU 0 hands X to 1 twice and never gets it back from 1; 1 and 2 hand
    # it to each other twice each way; 0 and 2 once each way.
    history = [E(0, X, N, W, 1), E(0, X, W, R, 2), E(1, X, N, R, 1), E(2, X, N, R, 1),
               E(0, X, R, N, 3), E(2, X, R, N, 2), E(1, X, R, W, 2),
               E(1, X, W, N, 3), E(2, X, N, W, 3),
               E(2, X, W, N, 4), E(1, X, N, W, 4),
               E(1, X, W, N, 5), E(2, X, N, W, 5),
               E(2, X, W, N, 6), E(0, X, N, W, 4)]
    assert analyse(history, {}).top == [FrameSharing(X, 15, [PingPong(1, 2, 4), PingPong(0, 2, 2)])]


def test_top_keeps_the_busiest_frames_ties_by_number():
    history = [E(v, f, N, R, 1) for v, f in enumerate([Z, Y, X, Z])]
    assert [(f.frame, f.events) for f in analyse(history, {}, top=2).top] == [(Z, 2), (X, 1)]
