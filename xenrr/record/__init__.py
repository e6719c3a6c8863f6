"""Recording: the dom0 side that drains Xen's per-vCPU log rings into a trace file.

One module per job:

    ring.py      one vCPU's log ring: the entries Xen published, cons advanced after copying
    merge.py     the entries of all rings back in Xen's one sequence
    place.py     changes forced on a vCPU given the position Xen logs later
    recorder.py  the loop: wait, drain, merge, place, derive constraints (crew/constraints.py), write
    domain.py    the recorded domain through privcmd: rings mapped, event channel bound
    session.py   from a domain to a closed trace: enable CREW recording, set up, run the loop
"""
