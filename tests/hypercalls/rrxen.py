"""A test double of Xen's side of XEN_DOMCTL_rr_op get_info and enable (and pause/unpause,
and a domain's start state: get_frames, getvcpucontext), in a privcmd's place: RrControl
and what calls it run unchanged against it."""

import errno

from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.errors import raise_for
from xenrr.hypercalls.privcmd import HypercallBuffer

DOMCTL = getattr(lib, "__HYPERVISOR_domctl")   # a class body would mangle the name
EVENT = 0x4300D1
SKID = 3


class RrXen:
    """get_info as Xen answers it, its branch counter in `status` (an XEN_RR_BRANCH_*
    name), and enable: in branch mode refused as public/domctl.h says for that status,
    or with `enable_errno` (an errno Xen gives for other reasons too). `then` is the
    status once `infos` get_info calls have been answered: the counter taken (or freed)
    meanwhile. The domain has no frames, and its vCPUs' registers are all zero."""

    def __init__(self, status="available", *, version=None, enable_errno=0, then=None,
                 infos=1):
        self.status = status
        self.then = then
        self.infos = infos
        self.version = lib.XEN_RR_INTERFACE_VERSION if version is None else version
        self.enable_errno = enable_errno
        self.enabled = []   # (domid, mode, position_mode, flags)
        self.journal = []   # ops asked, by name
        self.buffer = HypercallBuffer()

    def hypercall(self, op, addr, *, what, meanings=None):
        assert op == DOMCTL and addr == self.buffer.addr
        d = self.buffer.view("struct xen_domctl")
        if d.cmd in (lib.XEN_DOMCTL_pausedomain, lib.XEN_DOMCTL_unpausedomain):
            self.journal.append("pause" if d.cmd == lib.XEN_DOMCTL_pausedomain else "unpause")
            return 0
        if d.cmd == lib.XEN_DOMCTL_getvcpucontext:
            self.journal.append("getvcpucontext")
            return 0
        assert d.cmd == lib.XEN_DOMCTL_rr_op
        u = d.u.rr_op.u
        status = getattr(lib, f"XEN_RR_BRANCH_{self.status}")
        if d.u.rr_op.op == lib.XEN_DOMCTL_RR_OP_get_info:
            self.journal.append("get_info")
            u.info.interface_version = self.version
            u.info.features = (lib.XEN_RR_FEATURE_pv | lib.XEN_RR_FEATURE_pos_sync_entry
                               | lib.XEN_RR_FEATURE_record | lib.XEN_RR_FEATURE_crew
                               | lib.XEN_RR_FEATURE_frame_plan
                               | (lib.XEN_RR_FEATURE_pos_branch | lib.XEN_RR_FEATURE_replay
                                  if status == lib.XEN_RR_BRANCH_available else 0))
            u.info.max_vcpus = 8
            u.info.branch_status = status
            u.info.branch_event = 0 if status == lib.XEN_RR_BRANCH_no_counter else EVENT
            u.info.branch_skid = SKID
            self.infos -= 1
            if self.then is not None and self.infos == 0:
                self.status, self.then = self.then, None
            return 0
        if d.u.rr_op.op == lib.XEN_DOMCTL_RR_OP_get_frames:
            self.journal.append("get_frames")
            u.frames.pfns = u.frames.count = 0
            return 0
        assert d.u.rr_op.op == lib.XEN_DOMCTL_RR_OP_enable
        self.journal.append("enable")
        if self.enable_errno:
            raise_for(self.enable_errno, what, meanings)
        if u.enable.position_mode == lib.XEN_RR_POSITION_branch:
            if status == lib.XEN_RR_BRANCH_busy:
                raise_for(errno.EBUSY, what, meanings)
            if status != lib.XEN_RR_BRANCH_available:
                raise_for(errno.EOPNOTSUPP, what, meanings)
        self.enabled.append((d.domain, u.enable.mode, u.enable.position_mode, u.enable.flags))
        return 0
