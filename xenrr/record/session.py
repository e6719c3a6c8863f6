"""Recording a domain from start to end: enable CREW recording, set up, run the loop.

Xen enables recording only on a paused domain, so that the trace starts
before the guest's next instruction: a running domain is paused for it (and
unpaused once the rings are mapped and the trace is open); one created
paused (`xenrr record -c`, as `xl create -p`) is left to the caller's
choice. If setting up fails, recording is disabled again and our pause
undone.
"""

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.domains import Domain, xl
from xenrr.errors import XenrrError
from xenrr.formats import EndReason, GuestType, PositionMode, TraceHeader, TraceWriter
from xenrr.hypercalls.domctl import pause_domain, unpause_domain
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenver import xen_version
from xenrr.record.domain import attach
from xenrr.record.recorder import Progress, record


def domain_config(domid: int) -> str:
    """What xl knows of a running domain's configuration (`xl list -l`, JSON), or ""."""
    proc = xl("list", "-l", str(domid))
    return proc.stdout if proc.returncode == 0 else ""


def trace_header(privcmd: Privcmd, domain: Domain, config: str, interface: int) -> TraceHeader:
    """The trace's first record: the domain, and the exact hypervisor build recording it."""
    version = xen_version(privcmd)
    return TraceHeader(
        domid=domain.domid, vcpus=domain.info.nr_vcpus,
        guest_type=GuestType.HVM if domain.info.hvm else GuestType.PV,
        position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=interface,
        start_time=time.time_ns(), name=domain.name,
        xen_version=f"{version} ({version.changeset})" if version.changeset else str(version),
        config=config)


def record_domain(privcmd: Privcmd, domain: Domain, path: Path, config: str, *,
                  created_paused: bool, leave_paused: bool, stop: threading.Event,
                  progress: Callable[[Progress], None] | None = None) -> EndReason:
    """Record `domain` into the trace at `path` until it ends or `stop` is set.

    created_paused: its creator paused it, and that pause is undone once
    set up unless leave_paused; otherwise it is paused here for enable and
    unpaused once set up.
    """
    rr = RrControl(privcmd)
    interface = rr.info().interface_version
    domid = domain.domid
    if not created_paused:
        pause_domain(privcmd, domid)
    try:
        rr.enable(domid, crew=True)
    except BaseException:
        if not created_paused:
            unpause_domain(privcmd, domid)
        raise
    with contextlib.ExitStack() as stack:
        try:
            target, rings = stack.enter_context(attach(privcmd, domid, domain.info.nr_vcpus))
            writer = stack.enter_context(TraceWriter(
                path, header=trace_header(privcmd, domain, config, interface)))
        except BaseException:
            with contextlib.suppress(XenrrError):
                rr.disable(domid)
            if not created_paused:
                unpause_domain(privcmd, domid)
            raise
        if not leave_paused:
            unpause_domain(privcmd, domid)
        return record(target, rings, writer, stop, progress)
