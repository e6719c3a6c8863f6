"""The CREW reference model (ARCHITECTURE.md "CREW", "Positions"; seeds/001).

The hypervisor's CREW code is judged against this model, which is small
enough to read and tested to exhaustion. One module per job:

    crew.py      frame states, legal transitions, the orderings an increase needs
    clocks.py    vector clocks: dropping constraints earlier ones imply
    record.py    recording: actors under an interleaving through CREW -> a log
    schedule.py  replay ordering: when an actor may pass a position
    replay.py    replay: the recorded streams under the logged constraints only
    check.py     the checker: is a log a legal CREW history?
    sharing.py   which frames and pairs of actors CREW costs most
    trace.py     trace files <-> model events and constraints
"""
