"""Recording a domain from start to end: CREW recording enabled, the trace opened, the loop run.

The domain's rr life cycle is rrdomain's: the trace is open before the
guest runs its first recorded instruction; one created paused (`xenrr
record -c`, as `xl create -p`) may be left paused for the caller.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.domains import Domain, xl
from xenrr.formats import EndReason, GuestType, PositionMode, TraceHeader, TraceWriter
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenver import xen_version
from xenrr.record.recorder import Progress, record
from xenrr.rrdomain.xen import rr_mode


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
    set up unless leave_paused (rrdomain.xen.rr_mode).
    """
    interface = RrControl(privcmd).info().interface_version
    with rr_mode(privcmd, domain, crew=True, created_paused=created_paused) as target:
        with TraceWriter(path, header=trace_header(privcmd, domain, config,
                                                   interface)) as writer:
            target.go(leave_paused)
            return record(target, target.rings, writer, stop, progress)
