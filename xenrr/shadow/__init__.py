"""The CREW reference model (ARCHITECTURE.md "CREW", "Positions"; seeds/001).

The hypervisor's CREW code is judged against this model, which is small
enough to read and is tested with random programs recorded and replayed
through it. One module per job:

    actors.py    the actor id space (vCPUs and DMA devices)
    errors.py    the ways a log can violate the protocol
    crew.py      frame states, legal transitions, the orderings an increase needs
    clocks.py    vector clocks: dropping constraints earlier ones imply
    program.py   what model actors execute: reads and writes of words of frames
    record.py    recording: actors under an interleaving through CREW -> a log
    schedule.py  replay ordering: when an actor may pass a position
    replay.py    replay: the recorded streams under the logged constraints only
    check.py     the checker: is a log a legal CREW history?
    sharing.py   which frames and pairs of actors CREW costs most
    trace.py     trace files <-> model events and constraints
"""
