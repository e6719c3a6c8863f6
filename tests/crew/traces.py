"""Trace files for tests, written with TraceWriter from model histories."""

import os
from pathlib import Path

from xenrr.formats import (Durability, GuestType, PositionMode, TraceHeader, TraceReader,
                           TraceWriter)
from xenrr.crew.actors import device_actor
from xenrr.crew.protocol import Access, Constraint, CrewEvent
from xenrr.crew.history import records

HEADER = TraceHeader(domid=7, vcpus=2, guest_type=GuestType.PV,
                     position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1, start_time=0,
                     name="guest", xen_version="4.17.5", config="")

N, R, W = Access.NONE, Access.READ, Access.WRITE
X, Y, Z = 0x10, 0x11, 0x12
DEV = device_actor(0)
E, C = CrewEvent, Constraint

# vCPUs 0 and 1 hand X back and forth; vCPU 1 reads Y, never written; the
# device writes Z in transaction 0 and vCPU 0 reads it after.
PINGPONG = [
    E(0, X, N, W, 1), E(0, X, W, N, 2), C(0, 2, 1, 1), E(1, X, N, W, 1),
    E(1, X, W, N, 2), C(1, 2, 0, 3), E(0, X, N, W, 3),
    E(1, Y, N, R, 3),
    E(DEV, Z, N, W, 0), E(DEV, Z, W, R, 1), C(DEV, 1, 0, 4), E(0, Z, N, R, 4),
]


def write_records(path: Path, trace_records, durability: Durability = Durability(),
                  header: TraceHeader = HEADER) -> Path:
    """A closed trace holding these records after its header."""
    with TraceWriter(path, header=header, durability=durability) as w:
        for r in trace_records:
            w.write(r)
    return path


def write_trace(path: Path, items, extra=(), rip: int = 0) -> Path:
    """A closed trace holding `items` as records, then the records in `extra`."""
    return write_records(path, [*records(items, rip), *extra])


def unclose(path: Path) -> Path:
    """Cut the footer off a closed trace, as if the recorder had died before closing it."""
    with TraceReader(path) as r:
        end = r.footer.offset
    os.truncate(path, end)
    return path
