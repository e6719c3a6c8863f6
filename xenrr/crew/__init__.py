"""The CREW reference model (docs/architecture.md "CREW", "Positions"; seeds/001).

The hypervisor's CREW code is judged against this model, which is small
enough to read. The package root holds what xenrr uses on real traces, at
record time and after; sim/ holds the simulation the tests drive it with.

    actors.py       the actor id space (vCPUs and DMA devices)
    errors.py       the ways a log can violate the protocol
    protocol.py     frame states, legal transitions, the orderings an increase needs
    clocks.py       vector clocks: dropping constraints earlier ones imply
    positions.py    trace positions as the model's integers (SYNC_ENTRY, BRANCH)
    constraints.py  the constraints Xen's CREW events imply (run by `xenrr record`)
    checker.py      is a log a legal CREW history?
    sharing.py      which frames and pairs of actors CREW costs most
    history.py      a trace's CREW records as model events and constraints, and back
    sim/            model actors recorded and replayed through CREW (tests, bench)
"""
