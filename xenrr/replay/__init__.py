"""Replaying a recorded domain (`xenrr replay CONFIG TRACE`, docs/architecture.md).

    config.py   CONFIG checked against the configuration the trace keeps
    frames.py   the domain built on the machine frames of its recording
    start.py    the whole start: built, then compared with the trace's start state

Xen's replay mode (each vCPU run to its logged positions) is not written
yet: replay stops once the start is proven identical.
"""
