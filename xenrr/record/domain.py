"""The recorded domain as the record loop sees it: Xen's side of recording, through privcmd.

`attach` sets up what the loop reads: every vCPU's log ring mapped
(XENMEM_resource_rr_ring) and the domain's ring event channel bound, so Xen
can wake the recorder. Everything is unmapped and unbound on leaving it.
"""

import contextlib
import select
from collections.abc import Iterator

from xenrr.formats import EndReason
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.domctl import getdomaininfo, pause_domain, unpause_domain
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.evtchn import EventChannels
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.resource import ResourceMapping
from xenrr.hypercalls.rr import DomainStats, RrControl
from xenrr.record.ring import RingReader


class XenDomain:
    def __init__(self, privcmd: Privcmd, domid: int, events: EventChannels):
        self.privcmd = privcmd
        self.domid = domid
        self.events = events
        self.rr = RrControl(privcmd)

    def wait(self, timeout: float) -> None:
        """Until Xen signals the rings or timeout seconds pass; fired ports are unmasked."""
        if select.select([self.events], [], [], timeout)[0]:
            for port in self.events.pending():
                self.events.unmask(port)

    def ended(self) -> EndReason | None:
        """Why the domain stopped running for good, or None while it runs."""
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


@contextlib.contextmanager
def attach(privcmd: Privcmd, domid: int, nr_vcpus: int
           ) -> Iterator[tuple[XenDomain, list[RingReader]]]:
    """The domain (recorded with CREW) and a reader of each vCPU's ring."""
    rr = RrControl(privcmd)
    with contextlib.ExitStack() as stack:
        rings = []
        for vcpu in range(nr_vcpus):
            info = rr.ring(domid, vcpu)
            mapping = stack.enter_context(ResourceMapping(
                privcmd, domid, lib.XENMEM_resource_rr_ring, vcpu, info.frames,
                what=f"map the log ring of domain {domid} vCPU {vcpu}"))
            ring = RingReader(mapping.buffer, vcpu)
            stack.callback(ring.release)
            rings.append(ring)
        events = stack.enter_context(EventChannels())
        events.bind_interdomain(domid, info.evtchn)
        yield XenDomain(privcmd, domid, events), rings
