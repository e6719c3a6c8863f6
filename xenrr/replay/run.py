"""Replaying a domain under CREW: the trace fed into Xen's rings, the vCPUs watched.

Xen takes each vCPU's part of the trace from its ring (feed.py cuts it),
runs the vCPU to each crew_event's position exactly, waits there for what
the event's constraints name, and changes the vCPU's access as the event
says (hypervisor-patches/0014); a read of the TSC returns the value logged
at its position (0019). dom0 keeps the rings full, tells Xen when it wrote
more (kick), and watches every vCPU (get_stop): the first one Xen holds
(its count passed a position without meeting it, a CREW fault or a TSC
read the trace does not have, a malformed entry) ends the replay with a
report.

What is refused before anything runs: traces whose positions count
synchronous entries, which cannot name a point between two of them.
Event upcalls and the time Xen publishes are not logged yet (issue 19): a
guest that depends on them diverges, and the report says where.
"""

import contextlib
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xenrr.errors import XenrrError
from xenrr.formats import AsyncInput, CrewEvent, PositionMode, TraceHeader
from xenrr.formats.enums import InputKind
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.evtchn import EventChannels
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl, RunStop
from xenrr.replay.feed import INPUTS, VcpuEntries, body
from xenrr.rrdomain.rings import RingWriter
from xenrr.rrdomain.xen import map_rings

# How long the replay may go without any vCPU applying a crew_event before
# it gives up: far longer than any run between two of them in the
# micro-guests and Linux under TCG.
STALL_SECONDS = 120.0

# How often Xen is asked to look again while nothing moves: a vCPU blocked in
# Xen at its position takes what the trace has there only when asked.
KICK_SECONDS = 0.25

# What Xen says of a vCPU it holds, for the report.
HELD = {
    "missed": "its count passed the position without meeting its rip and rcx",
    "unlogged": "it took a CREW fault where the trace has no change",
    "bad_entry": "Xen found a malformed entry in its ring",
    "registers": "its registers are not those recorded there",
    "conflict": "it would gain access to a frame that another vCPU still has",
    "input": "it read the TSC, or blocked, where the trace has it do neither",
}
# Xen holds a vCPU in state "input" at an async_input too: one it may not write.
HELD_AT_ASYNC_INPUT = "it may not write the input's frame there"


class DivergenceError(XenrrError):
    """The replayed domain did not do what its recording did."""


class ReplayRefusedError(XenrrError):
    """The trace needs what this replay cannot do yet."""


@dataclass
class Progress:
    """How far the replay has come, per vCPU: crew_events applied and inputs (TSC values,
    events, upcalls) taken, of those logged."""

    applied: list[int]
    totals: list[int]
    inputs: list[int]
    input_totals: list[int]
    steps: int = 0
    overflows: int = 0
    ended: str | None = None


def check_replayable(header: TraceHeader) -> None:
    """Refuse, in one line, a trace this replay cannot run."""
    if header.position_mode != PositionMode.BRANCH:
        mode = PositionMode(header.position_mode).name.lower().replace("_", "-")
        raise ReplayRefusedError(
            f"the trace counts positions by {mode}, which cannot name a point between two "
            "entries into Xen: replay needs a trace recorded with --positions branch")


@contextlib.contextmanager
def replay_rings(privcmd: Privcmd, domid: int,
                 vcpus: int) -> Iterator[tuple[RrControl, list[RingWriter], EventChannels]]:
    """The paused domain in CREW replay mode, its rings mapped for writing and its port bound.

    rr is disabled again if anything fails before the block ends; the
    block disables it itself to let the guest run on past its trace.
    """
    rr = RrControl(privcmd)
    rr.enable(domid, mode=lib.XEN_RR_MODE_replay, position_mode=lib.XEN_RR_POSITION_branch,
              crew=True)
    try:
        with contextlib.ExitStack() as stack:
            writers, events = map_rings(stack, privcmd, rr, domid, vcpus, RingWriter)
            yield rr, writers, events
    except BaseException:
        with contextlib.suppress(XenrrError):
            rr.disable(domid)
        raise


def _show(p) -> str:
    count, rip, rcx = p
    return f"count {count} rip {rip:#x} rcx {rcx:#x}"


# What Xen counts of a vCPU's entries: crew_events applied, inputs of any kind taken.
_GROUP = {CrewEvent: "crew_events", **{kind: "inputs" for kind in INPUTS}}


def _next(stop: RunStop, mine: VcpuEntries) -> tuple[int, object | None, object | None]:
    """The index among its own group (crew_events, inputs), the entry itself and the last one
    taken, of the first crew_event or input the vCPU has not taken."""
    taken = {"crew_events": 0, "inputs": 0}
    done = {"crew_events": stop.applied, "inputs": stop.inputs}
    last = None
    for e in mine.entries:
        group = _GROUP.get(type(e))
        if group is None:
            continue
        if taken[group] == done[group]:
            return taken[group], e, last
        taken[group] += 1
        last = e
    return 0, None, last


def _named(entry, index: int, mine: VcpuEntries) -> str:
    """The entry as the report names it: its record's name and number among its group, or
    "input" where the vCPU's inputs are of more than one kind (Xen counts them together),
    and an async_input's kind."""
    kind = type(entry)
    detail = f" ({InputKind(entry.kind).name.lower()})" if kind is AsyncInput else ""
    if kind is CrewEvent:
        return f"{kind.NAME} {index + 1} of {mine.events}"
    if {type(e) for e in mine.entries if type(e) in INPUTS} == {kind}:
        return f"{kind.NAME} {index + 1} of {mine.inputs}{detail}"
    return f"input {index + 1} of {mine.inputs}, an {kind.NAME}{detail},"


def _report(vcpu: int, stop: RunStop, mine: VcpuEntries) -> str:
    index, entry, last = _next(stop, mine)
    if entry is None:
        expected = "the end of its trace"
    else:
        expected = f"its {_named(entry, index, mine)} at {_show(tuple(entry.position))}"
    last = (f"the last that matched: {type(last).NAME} at {_show(tuple(last.position))}"
            if last is not None else "none matched before")
    held = HELD[stop.state]
    if stop.state == "input" and type(entry) is AsyncInput:
        held = f"{HELD_AT_ASYNC_INPUT} (gfn {entry.gfn:#x})"
    elif stop.state == "registers":
        held += f" (digest {stop.registers:#018x}, recorded {entry.registers:#018x})"
    elif stop.state == "conflict":
        held += (f" (gfn {entry.gfn:#x}, held by vCPU {stop.holder}: the trace lacks "
                 "the constraint that orders them)")
    return f"vCPU {vcpu} diverged before {expected}: {held} (at {_show(stop.at)}); {last}"


def _fill(writers: list[RingWriter], entries: list[VcpuEntries], cursors: list[int],
          ended: list[bool]) -> bool:
    """Put what fits into each ring; whether anything new reached Xen."""
    wrote = False
    for v, writer in enumerate(writers):
        todo = entries[v].entries
        while cursors[v] < len(todo) and writer.put(cursors[v], type(todo[cursors[v]]).TYPE,
                                                    body(todo[cursors[v]])):
            cursors[v] += 1
            wrote = True
        writer.publish()
        if cursors[v] == len(todo) and not ended[v]:
            writer.end()
            ended[v] = wrote = True
    return wrote


def _wait(events: EventChannels, timeout: float) -> None:
    if select.select([events], [], [], timeout)[0]:
        for port in events.pending():
            events.unmask(port)


def replay_trace(rr: RrControl, domid: int, writers: list[RingWriter], events: EventChannels,
                 entries: list[VcpuEntries], start: Callable[[], None],
                 ended: Callable[[], str | None],
                 progress: Callable[[Progress], None] = lambda p: None,
                 whole: bool = True) -> Progress:
    """Feed the rings until every vCPU took all its entries, or the guest ended.

    `start` lets the domain run once its rings hold their first entries.
    Raises DivergenceError for the first vCPU Xen holds, and when no vCPU
    gets anywhere for STALL_SECONDS. A trace that is not `whole` (cut
    short) does not end the rings: past what it holds a vCPU waits for
    entries that will not come, rather than run on as if the recording had
    ended there.
    """
    n = len(writers)
    cursors, rings_ended = [0] * n, [not whole] * n
    done = Progress([0] * n, [e.events for e in entries], [0] * n, [e.inputs for e in entries])
    started = False
    last, deadline = None, time.monotonic() + STALL_SECONDS
    kicked = time.monotonic()
    while True:
        if (_fill(writers, entries, cursors, rings_ended) or
                time.monotonic() - kicked > KICK_SECONDS):
            rr.kick(domid)
            kicked = time.monotonic()
        if not started:
            start()
            started = True
        end = ended()
        try:
            stops = [rr.run_stop(domid, v) for v in range(n)]
        except XenrrError:
            if end is None:
                raise
            done.ended = end      # gone: the last look stands
            return done
        for v, stop in enumerate(stops):
            if stop.state in HELD:
                raise DivergenceError(_report(v, stop, entries[v]))
        done.applied = [s.applied for s in stops]
        done.inputs = [s.inputs for s in stops]
        done.steps = sum(s.steps for s in stops)
        done.overflows = sum(s.overflows for s in stops)
        progress(done)
        if done.applied == done.totals and done.inputs == done.input_totals:
            return done
        # Ended before this look: what it applied by then is all it did.
        done.ended = end
        if end is not None:
            return done
        now = time.monotonic()
        if (done.applied, done.inputs) != last:
            last, deadline, kicked = (done.applied, done.inputs), now + STALL_SECONDS, now
        elif now > deadline:
            waiting = ", ".join(f"vCPU {v} {s.state} after {s.applied} of {done.totals[v]}"
                                + (f" (and {s.inputs} of {done.input_totals[v]} inputs)"
                                   if done.input_totals[v] else "")
                                for v, s in enumerate(stops))
            raise DivergenceError(f"no vCPU took an entry in {STALL_SECONDS:.0f} s "
                                  f"({waiting})")
        _wait(events, 0.05)
