"""Running a replayed vCPU through the positions its recording logged (Xen's run_to).

Xen stops the vCPU at exactly each logged position in turn (branch count,
rip, rcx: hypervisor-patches/0013) and holds it there; a vCPU whose count
passes a position without meeting it has diverged, and the first such
position ends the replay with a report. Between positions nothing is
decided by dom0: the run is the guest's own.

What is not replayed yet, and so refused before anything runs: more than
one vCPU (Xen does not yet apply the trace's CREW changes and constraints,
without which vCPUs sharing memory race anew), and traces whose positions
count synchronous entries, which cannot name a point between two of them.
Asynchronous inputs (event upcalls, time) are not logged yet (issue 19): a
guest that depends on them diverges, and the report says where.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from xenrr.errors import XenrrError
from xenrr.formats import CrewEvent, Position, PositionMode, TraceHeader, TraceReader
from xenrr.hypercalls.rr import RrControl, RunStop

# How long a vCPU may take to reach its next position before replay gives up
# on it: far longer than any run between two CREW events of the micro-guests
# and Linux under TCG.
STALL_SECONDS = 120.0


class DivergenceError(XenrrError):
    """The replayed vCPU did not pass where its recording did."""


class ReplayRefusedError(XenrrError):
    """The trace needs what this replay cannot do yet."""


@dataclass
class VcpuProgress:
    """How far one vCPU has come: positions reached of those logged, and Xen's effort."""

    vcpu: int
    reached: int
    total: int
    steps: int = 0
    overflows: int = 0


def check_replayable(header: TraceHeader) -> None:
    """Refuse, in one line, a trace this replay cannot run."""
    if header.position_mode != PositionMode.BRANCH:
        mode = header.position_mode.name.lower().replace("_", "-")
        raise ReplayRefusedError(
            f"the trace counts positions by {mode}, which cannot name a point between two "
            "entries into Xen: replay needs a trace recorded with --positions branch")
    if header.vcpus != 1:
        raise ReplayRefusedError(
            f"the trace has {header.vcpus} vCPUs: replaying more than one needs Xen to apply "
            "the trace's CREW changes and constraints, which it does not do yet")


def vcpu_positions(reader: TraceReader, vcpu: int) -> list[Position]:
    """The vCPU's logged positions in trace order, one for each run of equal ones."""
    positions: list[Position] = []
    for r in reader.records(frozenset({CrewEvent.TYPE})):
        if r.vcpu == vcpu and (not positions or positions[-1] != r.position):
            positions.append(r.position)
    return positions


def _show(p: tuple[int, int, int]) -> str:
    count, rip, rcx = p
    return f"count {count} rip {rip:#x} rcx {rcx:#x}"


def _wait(rr: RrControl, domid: int, vcpu: int, ended: Callable[[], str | None]) -> RunStop:
    """Until the vCPU is held: at its target, or where it missed it."""
    deadline = time.monotonic() + STALL_SECONDS
    pause = 0.0005
    while True:
        stop = rr.run_stop(domid, vcpu)
        if stop.state != "running":
            return stop
        end = ended()
        if end is not None:
            raise DivergenceError(f"vCPU {vcpu}: the guest ended ({end}) on its way to "
                                  f"{_show(stop.target)}")
        if time.monotonic() > deadline:
            raise DivergenceError(f"vCPU {vcpu}: did not reach {_show(stop.target)} in "
                                  f"{STALL_SECONDS:.0f} s")
        time.sleep(pause)
        pause = min(2 * pause, 0.02)


def run_positions(rr: RrControl, domid: int, vcpu: int, positions: Iterable[Position],
                  total: int, start: Callable[[], None], ended: Callable[[], str | None],
                  progress: Callable[[VcpuProgress], None] = lambda p: None) -> VcpuProgress:
    """Run the vCPU to each position in turn; `start` lets the domain run after the first target is set.

    Raises DivergenceError at the first position not met, naming it, what
    was found there, and the last position that matched.
    """
    done = VcpuProgress(vcpu, 0, total)
    last = None
    for index, p in enumerate(positions):
        target = (p.count, p.rip, p.rcx)
        rr.run_to(domid, vcpu, target)
        if index == 0:
            start()
        stop = _wait(rr, domid, vcpu, ended)
        done.steps, done.overflows = stop.steps, stop.overflows
        if stop.state != "stopped":
            matched = f"the last that matched: {_show(last)}" if last else "none matched before"
            raise DivergenceError(
                f"vCPU {vcpu} diverged at logged position {index + 1} of {total}: expected "
                f"{_show(target)}, found {_show(stop.at)} ({stop.state}); {matched}")
        last = target
        done.reached = index + 1
        progress(done)
    return done
