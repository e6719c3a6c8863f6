"""Recording: the dom0 side that drains Xen's per-vCPU log rings into a trace file.

The domain's rr life cycle and its rings are rrdomain's; what is recording's
own, one module per job:

    merge.py     the entries of all rings back in Xen's one sequence
    place.py     changes forced on a vCPU given the position Xen logs later
    recorder.py  the loop: wait, drain, merge, place, derive constraints (crew/constraints.py), write
    session.py   from a domain to a closed trace: rr mode entered, the trace opened, the loop run
"""
