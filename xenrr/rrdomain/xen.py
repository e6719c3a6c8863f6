"""A real domain under record/replay: the life cycle's primitives through privcmd.

`rr_mode` takes a domain from paused to rr enabled with every vCPU's log
ring mapped (XENMEM_resource_rr_ring) and the domain's ring event channel
bound, so that Xen can wake dom0; the caller readies what serves the rings
(an open trace) and only then lets the guest run (`go`). Set-up that fails
before that is undone: rr disabled, our pause taken off. Everything is
unmapped and unbound on leaving the block. The sequence itself is
lifecycle.RrDomain's.

XEN_POSITION_MODE is the one place the trace's position modes
(formats.PositionMode) meet Xen's (XEN_RR_POSITION_*), which number them
differently.
"""

import contextlib
import select
from collections.abc import Iterator

from xenrr.domains import Domain
from xenrr.errors import XenrrError
from xenrr.formats import EndReason, PositionMode
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.domctl import getdomaininfo, pause_domain, unpause_domain
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.evtchn import EventChannels
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.resource import ResourceMapping
from xenrr.hypercalls.rr import DomainStats, RrControl
from xenrr.rrdomain.lifecycle import RrDomain
from xenrr.rrdomain.rings import RingReader

XEN_POSITION_MODE = {PositionMode.SYNC_ENTRY: lib.XEN_RR_POSITION_sync_entry,
                     PositionMode.BRANCH: lib.XEN_RR_POSITION_branch}


class XenRrDomain(RrDomain):
    def __init__(self, privcmd: Privcmd, domid: int, events: EventChannels,
                 rings: list[RingReader]):
        self.privcmd = privcmd
        self.domid = domid
        self.events = events
        self.rings = rings
        self.rr = RrControl(privcmd)
        self.running = False

    def go(self, leave_paused: bool = False) -> None:
        """Set up: the guest may run now, unless it is to stay paused (its creator's pause)."""
        self.running = True
        if not leave_paused:
            self.unpause()

    def wait(self, timeout: float) -> None:
        """Until Xen signals the rings or timeout seconds pass; fired ports are unmasked."""
        if select.select([self.events], [], [], timeout)[0]:
            for port in self.events.pending():
                self.events.unmask(port)

    def ended(self) -> EndReason | None:
        try:
            info = getdomaininfo(self.privcmd, self.domid)
        except NoSuchDomainError:
            return EndReason.SHUTDOWN
        reason = info.shutdown_reason
        if reason == "crash":
            return EndReason.CRASHED
        return EndReason.SHUTDOWN if reason is not None or info.dying else None

    def stats(self) -> DomainStats:
        return self.rr.stats(self.domid)

    def pause(self) -> None:
        pause_domain(self.privcmd, self.domid)

    def unpause(self) -> None:
        unpause_domain(self.privcmd, self.domid)

    def disable(self) -> None:
        self.rr.disable(self.domid)


def map_rings(stack: contextlib.ExitStack, privcmd: Privcmd, rr: RrControl, domid: int,
              vcpus: int, side) -> tuple[list, EventChannels]:
    """Every vCPU's ring mapped as `side` (RingReader, RingWriter) and the ring port bound,
    all undone when `stack` closes."""
    rings = []
    for vcpu in range(vcpus):
        info = rr.ring(domid, vcpu)
        mapping = stack.enter_context(ResourceMapping(
            privcmd, domid, lib.XENMEM_resource_rr_ring, vcpu, info.frames,
            what=f"map the ring of domain {domid} vCPU {vcpu}"))
        ring = side(mapping.buffer, vcpu)
        stack.callback(ring.release)
        rings.append(ring)
    events = stack.enter_context(EventChannels())
    events.bind_interdomain(domid, info.evtchn)
    return rings, events


@contextlib.contextmanager
def rr_mode(privcmd: Privcmd, domain: Domain, *, crew: bool, created_paused: bool,
            positions: PositionMode) -> Iterator[XenRrDomain]:
    """The domain with rr enabled, positions counted as `positions` says, its rings mapped,
    paused until `go`.

    created_paused: its creator paused it (as `xl create -p`), and `go`
    takes that pause off; otherwise it is paused here for enable, and `go`
    takes ours off.
    """
    domid = domain.domid
    rr = RrControl(privcmd)
    if not created_paused:
        pause_domain(privcmd, domid)
    try:
        rr.enable(domid, position_mode=XEN_POSITION_MODE[positions], crew=crew)
    except BaseException:
        if not created_paused:
            unpause_domain(privcmd, domid)
        raise
    target = None
    try:
        with contextlib.ExitStack() as stack:
            rings, events = map_rings(stack, privcmd, rr, domid, domain.info.nr_vcpus,
                                      RingReader)
            target = XenRrDomain(privcmd, domid, events, rings)
            yield target
    except BaseException:
        if target is None or not target.running:
            with contextlib.suppress(XenrrError):
                rr.disable(domid)
            if not created_paused:
                unpause_domain(privcmd, domid)
        raise
