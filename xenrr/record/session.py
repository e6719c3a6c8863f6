"""Recording a domain from start to end: CREW recording enabled, the trace opened, the loop run.

The domain's rr life cycle is rrdomain's: the trace is open, and holds the
domain's start state (its frames, what they hold, its vCPUs' registers:
rrdomain/start.py), before the guest runs its first recorded instruction; one created paused (`xenrr
record -c`, as `xl create -p`) may be left paused for the caller.

Positions are counted in the mode asked for (`xenrr record --positions`):
auto takes branch counts where Xen offers them, and synchronous entries
where it does not, saying why (choose_positions). The trace's header, Xen
and the recorder all get the mode chosen.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.domains import Domain
from xenrr.domconfig import DomainConfig
from xenrr.errors import UsageError
from xenrr.formats import EndReason, GuestType, PositionMode, TraceHeader, TraceWriter
from xenrr.hypercalls.domctl import getdomaininfo
from xenrr.hypercalls.errors import NoSuchDomainError, PositionModeError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import POSITION_MODES, RrControl, RrInfo, branch_refusal
from xenrr.hypercalls.xenver import xen_version
from xenrr.record.recorder import Progress, record
from xenrr.rrdomain.end import read_end
from xenrr.rrdomain.start import read_start
from xenrr.rrdomain.xen import XEN_POSITION_MODE, rr_mode

# The modes `xenrr record --positions` names (hypercalls.rr.POSITION_MODES), as the trace's.
TRACE_POSITION_MODES = {name: mode for name, xen in POSITION_MODES.items()
                        for mode, xen_mode in XEN_POSITION_MODE.items() if xen_mode == xen}
POSITION_NAMES = {mode: name for name, mode in TRACE_POSITION_MODES.items()}
POSITIONS_ASKED = ("auto", *POSITION_MODES)


def choose_positions(info: RrInfo, asked: str = "auto") -> tuple[PositionMode, str | None]:
    """The mode to record in, as `asked` (POSITIONS_ASKED), and what to tell the user.

    auto: BRANCH where Xen offers it; else SYNC_ENTRY, with the one line that
    says why. A mode asked for by name that Xen does not offer is refused
    with its reason (PositionModeError).
    """
    if asked == "auto":
        if "branch" in info.position_modes:
            return PositionMode.BRANCH, None
        return PositionMode.SYNC_ENTRY, ("positions: sync-entry (this CPU has no branch counter "
                                         f"Xen can use: {info.branch_reason})")
    if asked not in TRACE_POSITION_MODES:
        raise UsageError(f"unknown position mode {asked!r}: choose {', '.join(POSITIONS_ASKED)}")
    if asked not in info.position_modes:
        if asked == "branch":
            raise PositionModeError(branch_refusal(info.branch_reason))
        raise PositionModeError(f"Xen does not offer {asked} positions")
    return TRACE_POSITION_MODES[asked], None


def trace_header(privcmd: Privcmd, domain: Domain, config: DomainConfig, interface: int,
                 positions: PositionMode = PositionMode.SYNC_ENTRY) -> TraceHeader:
    """The trace's first record: the domain, its configuration tagged with its kind, the
    position mode, and the exact hypervisor build recording it."""
    version = xen_version(privcmd)
    return TraceHeader(
        domid=domain.domid, vcpus=domain.info.nr_vcpus,
        guest_type=GuestType.HVM if domain.info.hvm else GuestType.PV,
        position_mode=positions, xenrr_interface=interface,
        start_time=time.time_ns(), name=domain.name,
        xen_version=f"{version} ({version.changeset})" if version.changeset else str(version),
        config_kind=config.kind, config=config.text)


def record_domain(privcmd: Privcmd, domain: Domain, path: Path, config: DomainConfig, *,
                  created_paused: bool, leave_paused: bool, stop: threading.Event,
                  progress: Callable[[Progress], None] | None = None,
                  positions: str = "auto",
                  say: Callable[[str], None] | None = None) -> EndReason:
    """Record `domain` into the trace at `path` until it ends or `stop` is set.

    created_paused: its creator paused it, and that pause is undone once
    set up unless leave_paused (rrdomain.xen.rr_mode). positions: a
    POSITIONS_ASKED name; `say` is told why auto did not take branch counts.
    """
    info = RrControl(privcmd).info()
    mode, note = choose_positions(info, positions)
    if note is not None and say is not None:
        say(note)
    with rr_mode(privcmd, domain, crew=True, created_paused=created_paused,
                 positions=mode) as target:
        with TraceWriter(path, header=trace_header(privcmd, domain, config,
                                                   info.interface_version, mode)) as writer:
            for start in read_start(privcmd, domain.domid, domain.info.nr_vcpus).records():
                writer.write(start)
            writer.flush()   # a chunk of its own: a recorder killed later still leaves it
            target.go(leave_paused)
            return record(target, target.rings, writer, stop, progress, positions=mode,
                          end_state=lambda reason: _end_state(privcmd, domain, reason, say))


def _end_state(privcmd: Privcmd, domain: Domain, reason: EndReason,
               say: Callable[[str], None] | None) -> list:
    """The records of the state the domain ended in, if it ended and is still there."""
    if reason not in (EndReason.SHUTDOWN, EndReason.CRASHED):
        return []
    try:
        info = getdomaininfo(privcmd, domain.domid)
    except NoSuchDomainError:
        info = None
    if info is None or info.dying:
        if say is not None:
            say(f"no end state kept: domain {domain.domid} was destroyed as it shut down "
                '(on_poweroff="preserve" keeps it, and replay can then compare its end)')
        return []
    return read_end(privcmd, domain.domid, domain.info.nr_vcpus).records()
