"""Recording a domain from start to end: CREW recording enabled, the trace opened, the loop run.

The domain's rr life cycle is rrdomain's: the trace is open before the
guest runs its first recorded instruction; one created paused (`xenrr
record -c`, as `xl create -p`) may be left paused for the caller.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.domains import Domain
from xenrr.domconfig import DomainConfig
from xenrr.formats import EndReason, GuestType, PositionMode, TraceHeader, TraceWriter
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenver import xen_version
from xenrr.record.recorder import Progress, record
from xenrr.rrdomain.xen import rr_mode


def trace_header(privcmd: Privcmd, domain: Domain, config: DomainConfig,
                 interface: int) -> TraceHeader:
    """The trace's first record: the domain, its configuration tagged with its kind, and the
    exact hypervisor build recording it."""
    version = xen_version(privcmd)
    return TraceHeader(
        domid=domain.domid, vcpus=domain.info.nr_vcpus,
        guest_type=GuestType.HVM if domain.info.hvm else GuestType.PV,
        position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=interface,
        start_time=time.time_ns(), name=domain.name,
        xen_version=f"{version} ({version.changeset})" if version.changeset else str(version),
        config_kind=config.kind, config=config.text)


def record_domain(privcmd: Privcmd, domain: Domain, path: Path, config: DomainConfig, *,
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
