"""XEN_DOMCTL_rr_op: xenrr's own domctl (hypervisor-patches/0002), from dom0.

Each operation carries the meaning of each errno the hypervisor documents
for it (public/domctl.h), so a refusal reaches the user as a sentence.
"""

import contextlib
import errno
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

from xenrr.hypercalls.abi import RR_ACCESS, RR_BRANCH, RR_FEATURES, RR_MODES, RR_RUN, ffi, lib
from xenrr.hypercalls.domctl import domctl
from xenrr.hypercalls.errors import (NO_XENRR, DomainStateError, InterfaceMismatchError,
                                     NoXenrrSupportError, NotPrivilegedError, PositionModeError)
from xenrr.hypercalls.privcmd import PAGE, HypercallBuffer, Privcmd
from xenrr.errors import HypercallError, UsageError, XenrrError

# What every rr_op errno means, whatever the sub-operation.
COMMON = {errno.ENOSYS: (NoXenrrSupportError, NO_XENRR)}

ENABLE = {**COMMON, **{
    errno.EPERM: (DomainStateError, "dom0 (the control domain) cannot be recorded"),
    errno.EBUSY: (DomainStateError, "the domain is running: it must be paused by its "
                                    "controller (e.g. created with `xl create -p`)"),
    errno.EEXIST: (DomainStateError, "record/replay is already enabled for this domain"),
    errno.EOPNOTSUPP: (DomainStateError, "not supported for this domain or mode by this "
                                         "hypervisor (64-bit PV guests can be recorded)"),
    errno.E2BIG: (DomainStateError, "the domain has more vCPUs than xenrr supports, or the "
                                    "shadow pool asked for exceeds its memory times its vCPUs"),
    errno.ENOMEM: (HypercallError, "Xen is out of memory for the shadow pool"),
    errno.EINVAL: (HypercallError, "Xen rejected the arguments (unknown mode or flags)"),
}}
DISABLE = {**COMMON, **{
    errno.ENOENT: (DomainStateError, "record/replay is not enabled for this domain"),
}}
STATS = {**COMMON, **{
    errno.EINVAL: (UsageError, "no such vCPU"),
}}
FRAME = {**COMMON, **{
    errno.ENOENT: (DomainStateError, "record/replay is not enabled for this domain"),
    errno.EINVAL: (UsageError, "no such vCPU or access, or the frame is not the domain's"),
    errno.EBUSY: (DomainStateError, f"the vCPU already has {lib.XEN_RR_MAX_PENDING} "
                  "reductions waiting for its next position"),
    errno.EPERM: (DomainStateError, "the domain is recorded under CREW, which alone decides "
                                    "what its vCPUs may access"),
}}

# Why Xen offers no positions by branch count (xen_rr_info.branch_status), each a
# sentence that reads after "this CPU has no branch counter Xen can use: ".
BRANCH_UNAVAILABLE = {
    "no_counter": "Xen knows no branch counter for this CPU model",
    "self_test": "the branch counter failed Xen's self-test at boot (see `xl dmesg`)",
    "speclockmap": "this AMD Zen CPU does not have SpecLockMap disabled, which makes its "
                   "branch count inexact",
    "busy": "the performance counters are in use (vPMU, the NMI watchdog or xenoprof): "
            "boot Xen without them",
}
# What enable answers in branch mode for each (public/domctl.h).
BRANCH_ENABLE_ERRNO = {"no_counter": errno.EOPNOTSUPP, "self_test": errno.EOPNOTSUPP,
                       "speclockmap": errno.EOPNOTSUPP, "busy": errno.EBUSY}

# Position modes by the names `xenrr record --positions` takes: XEN_RR_POSITION_*, and
# the XEN_RR_FEATURE_* that says Xen offers it.
POSITION_MODES = {"sync-entry": lib.XEN_RR_POSITION_sync_entry,
                  "branch": lib.XEN_RR_POSITION_branch}
POSITION_FEATURES = {"sync-entry": "pos_sync_entry", "branch": "pos_branch"}


def branch_unavailable(status: str) -> str:
    """The sentence for a branch_status (an RR_BRANCH name) other than available."""
    return BRANCH_UNAVAILABLE.get(status, f"Xen gives reason {status}, which this xenrr "
                                          "does not know")


def branch_refusal(reason: str) -> str:
    """The one line that refuses positions by branch count, for `reason` (a sentence)."""
    return f"positions by branch count are not offered on this machine: {reason}"


RING = {**COMMON, **{
    errno.ENOENT: (DomainStateError, "record/replay is not enabled for this domain"),
    errno.EINVAL: (UsageError, "no such vCPU"),
    errno.EOPNOTSUPP: (DomainStateError, "the domain is not recorded with CREW: only then "
                                         "does Xen keep log rings"),
}}


GET_FRAMES = {**COMMON, **{
    errno.EOPNOTSUPP: (DomainStateError, "not a PV domain, or this hypervisor has no frame "
                                         "plans (rr interface 7)"),
    errno.EINVAL: (HypercallError, "Xen rejected the arguments"),
}}
PLAN = {**COMMON, **{
    errno.EOPNOTSUPP: (InterfaceMismatchError, "this hypervisor has no frame plans (rr "
                                               "interface 7): rebuild it from "
                                               "hypervisor-patches/"),
    errno.EINVAL: (HypercallError, "Xen rejected the plan (more pfns than it plans at once, "
                                   "or an mfn out of range)"),
    errno.EEXIST: (DomainStateError, "a pfn of it is already planned"),
    errno.ENOMEM: (HypercallError, "Xen is out of memory for the plan"),
    errno.ENOENT: (DomainStateError, "no plan is being made: it was dropped meanwhile"),
}}

RUN = {**COMMON, **{
    errno.ENOENT: (DomainStateError, "record/replay is not enabled for this domain"),
    errno.EOPNOTSUPP: (DomainStateError, "the domain is not being replayed (rr interface 8 "
                                         "replay mode)"),
    errno.EINVAL: (UsageError, "no such vCPU"),
    errno.ERANGE: (DomainStateError, "the vCPU has passed that position's branch count "
                                     "already"),
    errno.EBUSY: (DomainStateError, "the domain is replayed under CREW: its rings say where "
                                    "its vCPUs go"),
}}

KICK = {**COMMON, **{
    errno.ENOENT: (DomainStateError, "record/replay is not enabled for this domain"),
    errno.EOPNOTSUPP: (DomainStateError, "the domain is not replayed under CREW"),
}}

# Bytes of one entry of a frame list (xen_rr_frames.mfns).
_MFN = ffi.sizeof("uint64_t")


class Refused(NamedTuple):
    """The frames of a plan that were not free: Xen holds the others for it."""
    pfns: list[int]     # sorted
    shared_info: bool   # the frame asked for the domain's shared_info

    def __bool__(self) -> bool:
        return bool(self.pfns) or self.shared_info


class RunStop(NamedTuple):
    """Where a replayed vCPU is on its way to its target: XEN_DOMCTL_RR_OP_get_stop.

    Positions are (count, rip, rcx). state is none (no target: it runs
    freely), running, stopped (held at the target), missed (held where its
    count passed the target's without meeting its rip and rcx); under CREW
    replay also waiting (for another vCPU or for entries), unlogged (held
    at a CREW fault the trace does not have), bad_entry (held: its ring
    held a malformed entry), registers (held at its next crew_event's
    position, its registers not those recorded there: `registers` is the
    digest Xen found) or conflict (held there: the event would give it
    access that vCPU `holder` still has against CREW) or input (held
    before a read of the TSC where its next entry is not an rdtsc there,
    at an input whose frame it may not write, or after blocking where its
    next entry is elsewhere); applied counts the crew_events it applied,
    inputs the inputs (TSC values, published events, upcalls, wakes) it
    took from the trace.
    """

    state: str
    target: tuple[int, int, int]
    at: tuple[int, int, int]
    steps: int
    overflows: int
    applied: int = 0
    registers: int = 0
    holder: int = 0
    inputs: int = 0


class RingInfo(NamedTuple):
    """Where one vCPU's log ring is: its frames (header first), and the domain's port."""

    frames: int
    evtchn: int   # unbound port in the recorded domain, for dom0 to bind


@dataclass(frozen=True)
class RrInfo:
    interface_version: int
    features: frozenset[str]
    max_vcpus: int
    branch_status: str   # an RR_BRANCH name: available, or why positions by branch count are not
    branch_event: int    # the event select Xen programs for them (0: none)
    branch_skid: int     # branches an overflow interrupt may come late on this CPU

    @property
    def position_modes(self) -> tuple[str, ...]:
        """The position modes this machine offers (POSITION_MODES names)."""
        return tuple(name for name, feature in POSITION_FEATURES.items()
                     if feature in self.features)

    @property
    def branch_reason(self) -> str | None:
        """Why positions by branch count are not offered, as a sentence; None if they are."""
        if "pos_branch" in self.features:
            return None
        if self.branch_status == "available":
            return "Xen does not offer them"
        return branch_unavailable(self.branch_status)


@dataclass(frozen=True)
class VcpuStats:
    """One vCPU's counters (the per-vCPU fields of struct xen_rr_stats)."""

    vcpu: int
    position: int             # in the domain's position mode
    rip: int                  # the guest's, at that position
    hypercalls: int
    syscalls: int
    exceptions: int
    emulations: int
    shadow_faults: int
    crew_events: int
    records: int
    bytes: int
    shadows: int
    reductions: int           # reductions taken effect at a position
    forced: int               # of which forced before the vCPU reached one (CREW)
    reduction_position: int   # the position of the last one


@dataclass(frozen=True)
class FrameAccess:
    """What one vCPU may do with a frame, and what its shadows map of it now."""

    mfn: int
    vcpu: int
    access: str          # a RR_ACCESS name: none, read, rw
    mapped: str          # the strongest access the vCPU's shadow entries grant
    entries: int         # how many of its shadow entries map the frame
    pending: str | None  # the access waiting for the vCPU's next position, if any


@dataclass(frozen=True)
class DomainStats:
    mode: str
    nr_vcpus: int
    shadow_mb: int
    vcpus: tuple[VcpuStats, ...]

    def totals(self) -> dict[str, int]:
        """Per-domain counters: each per-vCPU counter summed over the vCPUs."""
        names = [f.name for f in fields(VcpuStats) if f.name not in ("vcpu", "rip")]
        return {n: sum(getattr(v, n) for v in self.vcpus) for n in names}


class RrControl:
    def __init__(self, privcmd: Privcmd):
        self.privcmd = privcmd

    def _op(self, domid: int, op: int, what: str, meanings, fill=None, answer: str = ""):
        """Issue one rr_op; the union member `answer` names, as its own copy.

        A struct reached through a field does not keep the cffi object that
        owns its memory alive: handed back as such, it would read freed
        memory once the domctl's copy is collected (and the next call's
        answer once that memory is reused).
        """
        def set_op(u):
            u.rr_op.op = op
            if fill is not None:
                fill(u.rr_op.u)
        out = domctl(self.privcmd, lib.XEN_DOMCTL_rr_op, domid, set_op, what=what,
                     meanings=meanings)
        if answer:
            member = getattr(out.u.rr_op.u, answer)
            return ffi.new(ffi.getctype(ffi.typeof(member), "*"), member)
        return None

    def info(self) -> RrInfo:
        """What the hypervisor supports; dom0 is named since any domain will do."""
        meanings = {**COMMON, errno.EPERM: (NotPrivilegedError, "only dom0, as root, may ask")}
        out = self._op(0, lib.XEN_DOMCTL_RR_OP_get_info, "xenrr info", meanings,
                       answer="info")
        if out.interface_version != lib.XEN_RR_INTERFACE_VERSION:
            raise InterfaceMismatchError(
                f"the hypervisor speaks xenrr interface {out.interface_version}, this xenrr "
                f"speaks {lib.XEN_RR_INTERFACE_VERSION}: rebuild one of them")
        return RrInfo(out.interface_version,
                      frozenset(n for n, bit in RR_FEATURES.items() if out.features & bit),
                      out.max_vcpus, RR_BRANCH.get(out.branch_status, str(out.branch_status)),
                      out.branch_event, out.branch_skid)

    def enable(self, domid: int, mode: int = lib.XEN_RR_MODE_record,
               position_mode: int = lib.XEN_RR_POSITION_sync_entry, shadow_mb: int = 0,
               crew: bool = False) -> None:
        """Start rr on a paused domain; with `crew` every frame is under CREW.

        position_mode is a XEN_RR_POSITION_* value. In branch mode, EBUSY and
        EOPNOTSUPP may also mean that the branch counter cannot be had (it
        became so after get_info said it could): get_info is asked again, and
        if it says so, the refusal is its reason (PositionModeError).
        """
        def fill(u):
            u.enable.mode = mode
            u.enable.position_mode = position_mode
            u.enable.flags = lib.XEN_RR_ENABLE_crew if crew else 0
            u.enable.shadow_mb = shadow_mb
        what = f"enable domain {domid}"
        try:
            self._op(domid, lib.XEN_DOMCTL_RR_OP_enable, what, ENABLE, fill)
        except HypercallError as e:
            err = getattr(e, "errno", None)
            if position_mode != lib.XEN_RR_POSITION_branch or err not in (errno.EBUSY,
                                                                          errno.EOPNOTSUPP):
                raise
            try:
                status = self.info().branch_status
            except XenrrError:
                raise e from None
            if BRANCH_ENABLE_ERRNO.get(status) != err:
                raise
            refusal = PositionModeError(f"{what}: {branch_refusal(branch_unavailable(status))}")
            refusal.errno = err
            raise refusal from None

    def disable(self, domid: int) -> None:
        self._op(domid, lib.XEN_DOMCTL_RR_OP_disable, f"disable domain {domid}", DISABLE)

    def vcpu_stats(self, domid: int, vcpu: int):
        """The raw struct xen_rr_stats of one vCPU (domain fields included)."""
        def fill(u):
            u.stats.vcpu = vcpu
        return self._op(domid, lib.XEN_DOMCTL_RR_OP_get_stats,
                        f"stats of domain {domid} vCPU {vcpu}", STATS, fill, answer="stats")

    def set_frame_access(self, domid: int, mfn: int, vcpu: int, access: str,
                         at_position: bool = False) -> None:
        """Let vCPU `vcpu` do only `access` (none, read, rw) with frame `mfn`.

        Now, or with `at_position` at the vCPU's next position: the point of
        its execution where CREW logs a reduction and replay repeats it.
        """
        if access not in RR_ACCESS or access == "write":
            raise UsageError(f"unknown access {access!r}: choose none, read or rw")

        def fill(u):
            u.frame.mfn = mfn
            u.frame.vcpu = vcpu
            u.frame.access = RR_ACCESS[access]
            u.frame.flags = lib.XEN_RR_FRAME_at_position if at_position else 0
        self._op(domid, lib.XEN_DOMCTL_RR_OP_set_frame_access,
                 f"frame {mfn:#x} of domain {domid}", FRAME, fill)

    def query_frame(self, domid: int, mfn: int, vcpu: int) -> FrameAccess:
        def fill(u):
            u.frame.mfn = mfn
            u.frame.vcpu = vcpu
        out = self._op(domid, lib.XEN_DOMCTL_RR_OP_query_frame,
                       f"frame {mfn:#x} of domain {domid}", FRAME, fill, answer="frame")
        names = {v: k for k, v in RR_ACCESS.items()}
        pending = names[out.pending] if out.flags & lib.XEN_RR_FRAME_pending else None
        return FrameAccess(mfn, vcpu, names[out.access], names[out.mapped], out.entries,
                           pending)

    def ring(self, domid: int, vcpu: int) -> RingInfo:
        """The log ring of a vCPU of a domain recorded with CREW (XEN_DOMCTL_RR_OP_get_ring)."""
        def fill(u):
            u.ring.vcpu = vcpu
        out = self._op(domid, lib.XEN_DOMCTL_RR_OP_get_ring,
                       f"log ring of domain {domid} vCPU {vcpu}", RING, fill, answer="ring")
        return RingInfo(out.frames, out.evtchn)

    def stats(self, domid: int) -> DomainStats:
        first = self.vcpu_stats(domid, 0)
        raw = [first] + [self.vcpu_stats(domid, v) for v in range(1, first.nr_vcpus)]
        names = [f.name for f in fields(VcpuStats)]
        return DomainStats(RR_MODES.get(first.mode, str(first.mode)), first.nr_vcpus,
                           first.shadow_mb,
                           tuple(VcpuStats(**{n: getattr(s, n) for n in names}) for s in raw))

    def frames(self, domid: int) -> array:
        """The machine frame at each pfn of a PV domain ('Q' entries, XEN_RR_NO_FRAME
        where it has none): what a replay must start it on.

        Xen fills as many entries as the buffer holds and says how many the
        domain needs: a call without a buffer sizes it, and a call that finds
        the domain grew meanwhile (it need not be paused) is made again with
        a bigger one.
        """
        buffer, nr = None, 0
        while True:
            def fill(u):
                u.frames.nr = nr
                u.frames.mfns = buffer.addr if buffer else 0
            out = self._op(domid, lib.XEN_DOMCTL_RR_OP_get_frames, f"frames of domain {domid}",
                           GET_FRAMES, fill, answer="frames")
            if out.pfns <= nr:
                break
            buffer = HypercallBuffer(pages=-(-out.pfns * _MFN // PAGE))
            nr = buffer.size // _MFN
        mfns = array("Q")
        if out.pfns:
            mfns.frombytes(ffi.buffer(buffer.view("uint64_t"), out.pfns * _MFN))
        return mfns

    def shared_info(self, domid: int) -> int:
        """The machine frame of a PV domain's shared_info (a Xen page the guest maps)."""
        out = self._op(domid, lib.XEN_DOMCTL_RR_OP_get_frames, f"frames of domain {domid}",
                       GET_FRAMES, answer="frames")
        return out.shared_info

    def plan_frames(self, handle: bytes, mfns: Sequence[int],
                    shared_info: int = lib.XEN_RR_NO_FRAME) -> Refused:
        """Plan frame mfns[pfn] at each pfn for the domain to be created with `handle`
        (its 16-byte uuid), and `shared_info` for its shared_info; XEN_RR_NO_FRAME
        leaves one out. What is not free (Refused): the plan holds the others.

        Xen takes the free frames out of its heap at once, for that domain's
        populate_physmap, and drops any plan made before (there is one at a
        time, host-wide: the domctl names dom0). Its entries go in batches,
        the first starting the plan; a batch refused leaves no plan.
        """
        if len(handle) != 16:
            raise UsageError(f"a domain handle is 16 bytes, not {len(handle)}")
        if not mfns:
            raise UsageError("a frame plan needs at least one pfn")
        name = uuid.UUID(bytes=bytes(handle))
        buffer = HypercallBuffer(pages=-(-lib.XEN_RR_PLAN_BATCH * _MFN // PAGE))
        entries = buffer.view("uint64_t")
        busy = []
        try:
            for start in range(0, len(mfns), lib.XEN_RR_PLAN_BATCH):
                batch = mfns[start:start + lib.XEN_RR_PLAN_BATCH]
                entries[0:len(batch)] = batch

                def fill(u, start=start, nr=len(batch)):
                    u.frames.start = start
                    u.frames.nr = nr
                    u.frames.mfns = buffer.addr
                    if start == 0:
                        u.frames.flags = lib.XEN_RR_PLAN_new
                        u.frames.pfns = len(mfns)
                        u.frames.shared_info = shared_info
                        ffi.memmove(u.frames.handle, bytes(handle), 16)
                out = self._op(0, lib.XEN_DOMCTL_RR_OP_plan_frames,
                               f"frame plan for domain {name}, pfns {start:#x}-"
                               f"{start + len(batch) - 1:#x}", PLAN, fill, answer="frames")
                if start == 0:
                    shared_busy = (out.shared_info != lib.XEN_RR_NO_FRAME
                                   and bool(out.shared_info & lib.XEN_RR_FRAME_BUSY))
                if out.busy:
                    busy += [start + i for i, mfn in enumerate(ffi.unpack(entries, len(batch)))
                             if mfn != lib.XEN_RR_NO_FRAME and mfn & lib.XEN_RR_FRAME_BUSY]
        except BaseException:
            with contextlib.suppress(XenrrError):
                self.drop_plan()
            raise
        return Refused(busy, shared_busy)

    def run_to(self, domid: int, vcpu: int, position: tuple[int, int, int]) -> None:
        """Let a replayed vCPU run until it is at exactly (count, rip, rcx), and hold it there."""
        def fill(u):
            u.run.vcpu = vcpu
            u.run.count, u.run.rip, u.run.rcx = position
        self._op(domid, lib.XEN_DOMCTL_RR_OP_run_to,
                 f"run domain {domid} vCPU {vcpu} to {position[0]}@{position[1]:#x}", RUN, fill)

    def run_stop(self, domid: int, vcpu: int) -> RunStop:
        """Where a replayed vCPU is on its way to its target."""
        def fill(u):
            u.run.vcpu = vcpu
        out = self._op(domid, lib.XEN_DOMCTL_RR_OP_get_stop,
                       f"where domain {domid} vCPU {vcpu} is", RUN, fill, answer="run")
        return RunStop(RR_RUN.get(out.state, str(out.state)), (out.count, out.rip, out.rcx),
                       (out.at_count, out.at_rip, out.at_rcx), out.steps, out.overflows,
                       out.applied, out.registers, out.holder, out.inputs)

    def kick(self, domid: int) -> None:
        """Tell Xen a replayed domain's rings have new entries: its waiting vCPUs look again."""
        self._op(domid, lib.XEN_DOMCTL_RR_OP_kick, f"kick domain {domid}", KICK)

    def drop_plan(self) -> None:
        """Drop the frame plan, if any: the frames no domain took go back to Xen's heap."""
        def fill(u):
            u.frames.flags = lib.XEN_RR_PLAN_drop
        self._op(0, lib.XEN_DOMCTL_RR_OP_plan_frames, "drop the frame plan", PLAN, fill)
