"""XEN_DOMCTL: domain control hypercalls, the struct xen_domctl in a hypercall buffer."""

import errno
from collections.abc import Sequence
from dataclasses import dataclass

from xenrr.errors import UsageError
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.errors import DomainStateError, NoSuchDomainError
from xenrr.hypercalls.privcmd import PAGE, HypercallBuffer, Privcmd


def domctl(privcmd: Privcmd, cmd: int, domid: int, fill=None, *, what: str, meanings=None):
    """Issue one domctl; `fill(u)` sets the command's union member before the call.

    Returns the xen_domctl as Xen left it (OUT fields filled), a copy that
    stays valid after the next call. Keep it bound while reading its fields:
    a struct reached through a field does not keep the copy alive.
    """
    privcmd.buffer.clear()
    d = privcmd.buffer.view("struct xen_domctl")
    d.cmd = cmd
    d.interface_version = lib.XEN_DOMCTL_INTERFACE_VERSION
    d.domain = domid
    if fill is not None:
        fill(d.u)
    privcmd.hypercall(lib.__HYPERVISOR_domctl, privcmd.buffer.addr, what=what,
                      meanings=meanings)
    out = ffi.new("struct xen_domctl *")
    ffi.memmove(out, d, ffi.sizeof("struct xen_domctl"))
    return out


# SHUTDOWN_* of public/sched.h.
SHUTDOWN_REASONS = {0: "poweroff", 1: "reboot", 2: "suspend", 3: "crash", 4: "watchdog",
                    5: "soft_reset"}


@dataclass(frozen=True)
class DomainInfo:
    domid: int
    flags: int
    max_vcpu_id: int
    online_vcpus: int
    tot_pages: int
    max_pages: int

    @property
    def nr_vcpus(self) -> int:
        return self.max_vcpu_id + 1

    @property
    def hvm(self) -> bool:
        return bool(self.flags & lib.XEN_DOMINF_hvm_guest)

    @property
    def paused(self) -> bool:
        return bool(self.flags & lib.XEN_DOMINF_paused)

    @property
    def dying(self) -> bool:
        return bool(self.flags & lib.XEN_DOMINF_dying)

    @property
    def shutdown_reason(self) -> str | None:
        """Why the domain shut down (a SHUTDOWN_REASONS value), or None while it has not."""
        if not self.flags & lib.XEN_DOMINF_shutdown:
            return None
        code = (self.flags >> lib.XEN_DOMINF_shutdownshift) & lib.XEN_DOMINF_shutdownmask
        return SHUTDOWN_REASONS.get(code, str(code))

    @property
    def state(self) -> str:
        """xl list's state letters."""
        flags = self.flags
        return "".join(letter if flags & bit else "-" for letter, bit in (
            ("r", lib.XEN_DOMINF_running), ("b", lib.XEN_DOMINF_blocked),
            ("p", lib.XEN_DOMINF_paused), ("s", lib.XEN_DOMINF_shutdown),
            ("d", lib.XEN_DOMINF_dying)))


def pause_domain(privcmd: Privcmd, domid: int) -> None:
    """Stop the domain's vCPUs (the toolstack's pause, counted: each pause needs an unpause)."""
    domctl(privcmd, lib.XEN_DOMCTL_pausedomain, domid, what=f"pause domain {domid}")


def unpause_domain(privcmd: Privcmd, domid: int) -> None:
    domctl(privcmd, lib.XEN_DOMCTL_unpausedomain, domid, what=f"unpause domain {domid}")


def getdomaininfo(privcmd: Privcmd, domid: int) -> DomainInfo:
    """The domain's info; NoSuchDomainError if Xen knows no domain `domid`.

    XEN_DOMCTL_getdomaininfo answers with the next existing domain at or
    above domid, so the answer's own id is checked.
    """
    out = domctl(privcmd, lib.XEN_DOMCTL_getdomaininfo, domid,
                 what=f"domain {domid}")
    info = out.u.getdomaininfo
    if info.domain != domid:
        raise NoSuchDomainError(f"domain {domid}: no such domain")
    return DomainInfo(domid, info.flags, info.max_vcpu_id, info.nr_online_vcpus,
                      info.tot_pages, info.max_pages)


@dataclass(frozen=True)
class VcpuInfo:
    vcpu: int
    online: bool
    cpu_time: int   # ns the vCPU has run, ever: 0 until it is first scheduled


def getvcpuinfo(privcmd: Privcmd, domid: int, vcpu: int) -> VcpuInfo:
    """One vCPU's scheduling state (XEN_DOMCTL_getvcpuinfo).

    cpu_time is the vCPU's runstate time in RUNSTATE_running, the current
    stint included: a vCPU starts offline with every runstate time zero
    (vcpu_create in xen/common/domain.c), so 0 means it never ran.
    """
    def fill(u):
        u.getvcpuinfo.vcpu = vcpu
    out = domctl(privcmd, lib.XEN_DOMCTL_getvcpuinfo, domid, fill,
                 what=f"vCPU {vcpu} of domain {domid}")
    info = out.u.getvcpuinfo
    return VcpuInfo(vcpu, bool(info.online), info.cpu_time)


VCPUCONTEXT = {
    errno.EINVAL: (UsageError, "no such vCPU"),
    errno.ENODATA: (DomainStateError, "the vCPU was never brought up"),
}


def getvcpucontext(privcmd: Privcmd, domid: int, vcpu: int) -> bytes | None:
    """A vCPU's registers, as the raw struct vcpu_guest_context of a 64-bit PV domain
    (XEN_DOMCTL_getvcpucontext); None for a vCPU never brought up (ENODATA).

    A PV guest's secondary vCPUs are down until it initialises them, so a
    domain at its first instruction has only vCPU 0's context. The context
    is bigger than a page: Xen writes it into a buffer of its own, which the
    domctl (in privcmd's buffer) points to.
    """
    size = ffi.sizeof("struct vcpu_guest_context")
    context = HypercallBuffer(pages=-(-size // PAGE))

    def fill(u):
        u.vcpucontext.vcpu = vcpu
        u.vcpucontext.ctxt = context.addr
    try:
        domctl(privcmd, lib.XEN_DOMCTL_getvcpucontext, domid, fill,
               what=f"context of vCPU {vcpu} of domain {domid}", meanings=VCPUCONTEXT)
    except DomainStateError as e:
        if getattr(e, "errno", None) == errno.ENODATA:
            return None
        raise
    return bytes(ffi.buffer(context.view("struct vcpu_guest_context")))


# Frames one XEN_DOMCTL_getpageframeinfo3 takes, at most (E2BIG beyond).
PAGE_TYPES_BATCH = 1024


def page_types(privcmd: Privcmd, domid: int, mfns: Sequence[int]) -> list[int]:
    """Xen's type of each of a PV domain's frames (XEN_DOMCTL_PFINFO_*: which are page
    tables, of which level), as the migration stream asks (getpageframeinfo3)."""
    buffer = HypercallBuffer(pages=-(-PAGE_TYPES_BATCH * 8 // PAGE))
    entries = buffer.view("uint64_t")
    types = []
    for start in range(0, len(mfns), PAGE_TYPES_BATCH):
        batch = mfns[start:start + PAGE_TYPES_BATCH]
        entries[0:len(batch)] = batch

        def fill(u, n=len(batch)):
            u.getpageframeinfo3.num = n
            u.getpageframeinfo3.array = buffer.addr
        domctl(privcmd, lib.XEN_DOMCTL_getpageframeinfo3, domid, fill,
               what=f"page types of domain {domid}")
        types += ffi.unpack(entries, len(batch))
    return types


def enable_shadow(privcmd: Privcmd, domid: int, pool_mb: int) -> int:
    """Shared (stock) shadow paging for a paused PV domain; the pool Xen then reports.

    The baseline xenrr's own modes are measured against: the same shadow
    code with one shadow tree per domain, as log-dirty or L1TF use it.
    """
    def op(cmd: int, mb: int = 0):
        def fill(u):
            u.shadow_op.op = cmd
            u.shadow_op.mb = mb
        out = domctl(privcmd, lib.XEN_DOMCTL_shadow_op, domid, fill,
                     what=f"shadow mode for domain {domid}")
        return out.u.shadow_op.mb

    op(lib.XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION, pool_mb)
    op(lib.XEN_DOMCTL_SHADOW_OP_ENABLE_TEST)
    return op(lib.XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION)


def disable_shadow(privcmd: Privcmd, domid: int) -> None:
    """Take a domain out of shadow mode (test mode, not log-dirty): back on its own page tables.

    Where a domain goes after rr's disable, which leaves it on shared shadows,
    if it is to run as it did before it was recorded.
    """
    def fill(u):
        u.shadow_op.op = lib.XEN_DOMCTL_SHADOW_OP_OFF
    domctl(privcmd, lib.XEN_DOMCTL_shadow_op, domid, fill,
           what=f"shadow mode off for domain {domid}")
