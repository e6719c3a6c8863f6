"""The life cycle of a domain under record/replay, in one place (docs/architecture.md).

    paused -> rr enabled -> rings mapped, channel bound -> unpaused -> runs
        -> it ends (shutdown, crash, destroyed), or dom0 stops it:
           paused, rings drained, rr disabled, drained again, unpaused

Xen enables rr only on a paused domain, so that the log starts before the
guest's next instruction. Disabling places what Xen still owes (the changes
forced on vCPUs that never reached their next position) into the rings,
which stay mapped until dom0 lets them go: hence a drain on each side of
it. A domain that dies meanwhile needs nothing undone, and Xen refuses rr
ops on it (ESRCH): what ended it is its end, not the stop.

`RrDomain` is that sequence written once over six primitives (wait, ended,
stats, pause, unpause, disable): xen.XenRrDomain implements them with
hypercalls, tests with doubles. `xenrr record` drains the rings; replay
will feed them, through the same sequence.
"""

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from xenrr.errors import XenrrError
from xenrr.formats import EndReason
from xenrr.hypercalls.errors import NoSuchDomainError

Drain = Callable[[], None]


def _nothing() -> None:
    pass


class RrDomain(ABC):
    @abstractmethod
    def wait(self, timeout: float) -> None:
        """Until Xen signals the rings or `timeout` seconds pass."""

    @abstractmethod
    def ended(self) -> EndReason | None:
        """Why the domain stopped running for good, or None while it runs."""

    @abstractmethod
    def stats(self):
        """Xen's rr counters of the domain (hypercalls.rr.DomainStats)."""

    @abstractmethod
    def pause(self) -> None: ...

    @abstractmethod
    def unpause(self) -> None: ...

    @abstractmethod
    def disable(self) -> None: ...

    def stop(self, drain: Drain) -> EndReason:
        """Stop record/replay on request; a domain dying meanwhile has ended instead.

        libvirt destroys a domain and stops its recorder at about the same time.
        """
        reason = self.ended()
        if reason is None:
            try:
                self.detach(drain)
                return EndReason.STOPPED
            except NoSuchDomainError:
                reason = self.ended() or EndReason.SHUTDOWN
        drain()
        return reason

    def detach(self, drain: Drain = _nothing) -> None:
        """Take a running domain out of rr: paused, drained, disabled, drained, unpaused."""
        self.pause()
        try:
            drain()
            self.disable()
            drain()
        finally:
            self.unpause()

    def abandon(self) -> None:
        """After a failure in dom0: rr is disabled if Xen allows.

        A guest whose rings nobody serves waits for them for ever; a domain
        that is gone needs nothing.
        """
        with contextlib.suppress(XenrrError):
            self.detach()
