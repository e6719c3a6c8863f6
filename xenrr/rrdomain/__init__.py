"""A domain under record/replay: its rr life cycle and its log rings, shared by record and replay.

    lifecycle.py  the sequence from enable to disable, and a domain's death, written once
    xen.py        that sequence's primitives through privcmd; rr mode entered with rings mapped
    rings.py      one vCPU's log ring (struct xen_rr_ring_header, xen_rr_ring_entry)
"""
