"""The trace cut into each vCPU's entries for Xen's rings (replay under CREW, patch 0014).

Xen replays a vCPU from its own ring: its crew_events in trace order, each
after a replay_wait for every constraint that holds it back, and among them
the values its reads of the TSC returned (rdtsc records, patch 0019) and
the events Xen made visible to it and the upcalls it injected (async_input
records, patch 0020), which nothing waits for. Xen counts
the crew_events each vCPU has applied, so a constraint "vCPU i does not
pass q until vCPU j has passed p" becomes "i waits until j has applied n of
its crew_events", n counting j's crew_events in trace order up to the last
one at p before the constraint (trace-format.md, replay_wait). The
recorder writes each increase after the constraints kept for it, so that
one is before the constraint in trace order.
"""

from dataclasses import dataclass, field

from xenrr.errors import TraceError
from xenrr.formats import AsyncInput, Constraint, CrewEvent, Rdtsc, TraceReader
from xenrr.formats.records import ReplayWait
from xenrr.formats.recordtype import RECORD_HEADER

_RECORDS = frozenset({CrewEvent.TYPE, Constraint.TYPE, Rdtsc.TYPE, AsyncInput.TYPE})
INPUTS = (Rdtsc, AsyncInput)   # the records Xen counts together as a vCPU's inputs


def body(record) -> bytes:
    """A record's body, as a ring entry carries it: unpadded."""
    framed = type(record).CODEC.frame(record)
    _, length = RECORD_HEADER.unpack_from(framed)
    return framed[RECORD_HEADER.size:RECORD_HEADER.size + length]


@dataclass
class VcpuEntries:
    """One vCPU's ring entries, in order, and how many of them are crew_events and inputs
    (rdtscs and async_inputs)."""

    vcpu: int
    entries: list = field(default_factory=list)
    events: int = 0
    inputs: int = 0


def vcpu_entries(reader: TraceReader, vcpus: int) -> list[VcpuEntries]:
    """Each vCPU's entries; TraceError for a trace no replay can follow."""
    out = [VcpuEntries(v) for v in range(vcpus)]
    last_at: dict[tuple[int, object], int] = {}
    for r in reader.records(_RECORDS):
        if type(r) is CrewEvent:
            if r.vcpu >= vcpus:
                raise TraceError(f"{reader.path}: a crew_event of actor {r.vcpu:#x}: only the "
                                 f"{vcpus} vCPUs' can be replayed (devices are not logged yet)")
            mine = out[r.vcpu]
            mine.entries.append(r)
            mine.events += 1
            last_at[(r.vcpu, r.position)] = mine.events
        elif type(r) in INPUTS:
            if r.vcpu >= vcpus:
                raise TraceError(f"{reader.path}: an {r.NAME} of vCPU {r.vcpu}, but the trace "
                                 f"has {vcpus} vCPUs")
            out[r.vcpu].entries.append(r)
            out[r.vcpu].inputs += 1
        else:
            if r.vcpu >= vcpus or r.after_vcpu >= vcpus:
                raise TraceError(f"{reader.path}: a constraint between actors {r.vcpu:#x} and "
                                 f"{r.after_vcpu:#x}: only vCPUs can be replayed")
            n = last_at.get((r.after_vcpu, r.after_position))
            if n is None:
                raise TraceError(f"{reader.path}: a constraint of vCPU {r.vcpu} names vCPU "
                                 f"{r.after_vcpu} at {r.after_position}, where it has no "
                                 "crew_event before the constraint")
            out[r.vcpu].entries.append(ReplayWait(vcpu=r.vcpu, after_vcpu=r.after_vcpu,
                                                  events=n))
    return out
