"""The recorder the hook leaves behind: catch the domain libvirt creates and record it.

It is started by the hook's `start` call, before libxl creates the domain
(xenrr/libvirt/hook.py explains when libvirt calls what), and has its
xenstore watches set before the hook returns. Then, in order:

1. Wait for the domain: libxl__domain_make creates it (XEN_DOMCTL_createdomain,
   which leaves it paused by its controller, count 1) and in one xenstore
   transaction writes /local/domain/DOMID/vm = /vm/UUID. The watch on
   /local/domain fires on that commit; a domid that was not there when the
   watch was set and whose vm node names our uuid is ours.
2. Pause it at once (XEN_DOMCTL_pausedomain: the controller's pause count
   becomes 2). libxl is still building it (memory, kernel, devices) and
   libvirt's libxl_domain_unpause comes only after all of that, taking the
   count back to 1: the guest cannot run until we unpause. This first-sight
   pause wins the race by the whole build, seconds under QEMU TCG.
3. Wait until libxl has introduced the domain to xenstore
   (XS_IS_DOMAIN_INTRODUCED; libxl__build_post does it when the build is
   done): the domain is then whole, as `xl create -p` leaves it.
4. Check that no vCPU has run (XEN_DOMCTL_getvcpuinfo cpu_time 0). One that
   has means the pause came after libvirt's unpause, and the trace could not
   begin at the first instruction: not recorded (our pause undone) or, in
   strict mode, the domain destroyed.
5. Record exactly as `xenrr record -c` does (xenrr.record.session with our
   pause as the creator's), which unpauses it once the rings are mapped
   and the trace is open, and records until the domain ends or SIGTERM.
   The trace header keeps libvirt's domain XML (ConfigKind.LIBVIRT_XML).

While recording, record_domain owns our pause: it undoes it once set up.
If it fails before that, the pause is still ours to undo; the trace file
is created as the last step of the set-up, so its absence says which.
"""

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.domains import Domain, destroy
from xenrr.domconfig import DomainConfig
from xenrr.errors import XenrrError
from xenrr.formats import EndReason
from xenrr.formats.writer import PARTIAL_SUFFIX
from xenrr.hypercalls.domctl import getdomaininfo, getvcpuinfo, pause_domain, unpause_domain
from xenrr.hypercalls.errors import DomainStateError, NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.xenstore import Xenstore, XenstoreError
from xenrr.libvirt.lock import RECORDING, RecorderLock
from xenrr.record.session import record_domain

WAIT_SECONDS = 300.0   # for Xen to create the domain, then for libxl to finish building it
EVENT_SECONDS = 0.5    # between checks that the domain still exists while waiting


class NotFromFirstInstruction(DomainStateError):
    """A vCPU of the domain ran before the recorder could pause it."""


class CreationWatch:
    """The domain with a given uuid, seen the moment libxl creates it."""

    def __init__(self, xs: Xenstore, uuid: str):
        self.xs = xs
        self.vm = f"/vm/{uuid.lower()}"
        xs.watch("/local/domain", "xenrr-domains")
        xs.watch("@introduceDomain", "xenrr-introduced")
        self.known = self._domids()   # those that exist before libvirt creates ours

    def _domids(self) -> set[int]:
        return {int(e) for e in self.xs.directory("/local/domain") if e.isdigit()}

    def _vm_of(self, domid: int) -> str | None:
        try:
            return self.xs.read(f"/local/domain/{domid}/vm").lower()
        except XenstoreError:
            return None

    def created(self, stop: threading.Event, timeout: float = WAIT_SECONDS) -> int | None:
        """The new domain's id, or None if `stop` was set or none came in time."""
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            for domid in sorted(self._domids() - self.known):
                vm = self._vm_of(domid)
                if vm == self.vm:
                    return domid
                if vm is not None:
                    self.known.add(domid)   # another toolstack's domain
            self.xs.next_event(EVENT_SECONDS)
        return None

    def introduced(self, domid: int, alive: Callable[[], bool], stop: threading.Event,
                   timeout: float = WAIT_SECONDS) -> bool:
        """Whether libxl introduced the domain (its build done) while it lived, in time."""
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            if self.xs.is_introduced(domid):
                return True
            if not alive():
                return False
            self.xs.next_event(EVENT_SECONDS)
        return False


def _alive(privcmd: Privcmd, domid: int) -> bool:
    try:
        return not getdomaininfo(privcmd, domid).dying
    except NoSuchDomainError:
        return False


def vcpus_that_ran(privcmd: Privcmd, domid: int) -> list[int]:
    """The vCPUs of a paused domain that have ever run."""
    ran = []
    for vcpu in range(getdomaininfo(privcmd, domid).nr_vcpus):
        try:
            if getvcpuinfo(privcmd, domid, vcpu).cpu_time:
                ran.append(vcpu)
        except NoSuchDomainError:
            pass   # ESRCH for a vCPU id Xen has not allocated: it never ran
    return ran


def _give_back(privcmd: Privcmd, domid: int, strict: bool) -> None:
    """Undo our pause (the guest runs unrecorded), or destroy the domain in strict mode."""
    if strict:
        destroy(domid)
        return
    with contextlib.suppress(NoSuchDomainError):
        unpause_domain(privcmd, domid)


def record_created(privcmd: Privcmd, watch: CreationWatch, lock: RecorderLock, *,
                   name: str, trace: Path, config: DomainConfig, strict: bool,
                   stop: threading.Event,
                   say: Callable[[str], None]) -> EndReason | None:
    """Steps 1-5 above; why the recording ended, or None if the domain never came."""
    domid = watch.created(stop)
    if domid is None:
        say("libvirt stopped the domain before Xen created it" if stop.is_set()
            else f"no domain with this uuid appeared within {WAIT_SECONDS:.0f} s")
        return None
    pause_domain(privcmd, domid)
    lock.set_phase(RECORDING)
    say(f"domain {domid} created; paused it while libxl builds it")
    try:
        if not watch.introduced(domid, lambda: _alive(privcmd, domid), stop):
            raise DomainStateError(f"domain {domid} ended or was stopped before libxl finished "
                                   "building it")
        ran = vcpus_that_ran(privcmd, domid)
        if ran:
            action = "destroyed it (strict)" if strict else "it runs unrecorded"
            raise NotFromFirstInstruction(
                f"domain {domid}: vCPU {ran[0]} had already run when xenrr paused it, so its "
                f"trace could not begin at its first instruction: {action}")
        say(f"no vCPU of domain {domid} has run: recording it into {trace}")
        domain = Domain(domid, name, getdomaininfo(privcmd, domid))
        return record_domain(privcmd, domain, trace, config, created_paused=True,
                             leave_paused=False, stop=stop, say=say)
    except BaseException:
        if not (trace.exists() or trace.with_name(trace.name + PARTIAL_SUFFIX).exists()):
            with contextlib.suppress(XenrrError):
                _give_back(privcmd, domid, strict)
        raise
