"""get_frames and plan_frames: a domain's frames read by pfn, a frame plan made in batches."""

import errno
import uuid

import pytest

from tests.hypercalls.test_rr import DOMCTL
from xenrr.errors import UsageError
from xenrr.hypercalls.abi import RR_FEATURES, ffi, lib
from xenrr.hypercalls.errors import DomainStateError, InterfaceMismatchError, raise_for
from xenrr.hypercalls.privcmd import HypercallBuffer
from xenrr.hypercalls.rr import RrControl

NONE = lib.XEN_RR_NO_FRAME
BUSY = lib.XEN_RR_FRAME_BUSY
HANDLE = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").bytes


class FrameXen:
    """Xen's side of get_frames and plan_frames as public/domctl.h describes them: a
    domain's frames `domain` ({pfn: mfn}, which `grow` adds to once answered); plans
    take every frame but those in `in_use`; `refuse` maps a batch's start to an errno."""

    def __init__(self, domain=None, *, grow=None, in_use=(), refuse=None):
        self.domain = dict(domain or {})
        self.grow = grow
        self.in_use = set(in_use)
        self.refuse = refuse or {}
        self.plan = None      # {pfn: mfn}
        self.calls = []       # (op name, domain, start, nr, flags, pfns, handle)
        self.buffer = HypercallBuffer()

    def hypercall(self, op, addr, *, what, meanings=None):
        d = self.buffer.view("struct xen_domctl")
        assert (op, addr, d.cmd) == (DOMCTL, self.buffer.addr, lib.XEN_DOMCTL_rr_op)
        f = d.u.rr_op.u.frames
        self.shared_info_asked = getattr(self, "shared_info_asked", None)
        name = {lib.XEN_DOMCTL_RR_OP_get_frames: "get",
                lib.XEN_DOMCTL_RR_OP_plan_frames: "plan"}[d.u.rr_op.op]
        self.calls.append((name, d.domain, f.start, f.nr, f.flags, f.pfns,
                           bytes(ffi.buffer(f.handle))))
        entries = ffi.cast("uint64_t *", f.mfns)
        if name == "get":
            entries[0:f.nr] = [self.domain.get(pfn, NONE) for pfn in range(f.nr)]
            f.pfns = max(self.domain, default=-1) + 1
            f.count = len(self.domain)
            f.shared_info = 0x3ff
            if self.grow:
                self.domain.update(self.grow)
                self.grow = None
            return 0
        assert d.domain == 0
        if f.start in self.refuse:
            raise_for(self.refuse[f.start], what, meanings)
        if f.flags & lib.XEN_RR_PLAN_drop:
            self.plan = None
            return 0
        f.busy = 0
        if f.flags & lib.XEN_RR_PLAN_new:
            self.plan = {}
            self.shared_info_asked = f.shared_info
            if f.shared_info in self.in_use:
                f.shared_info |= BUSY
                f.busy += 1
        for i in range(f.nr):
            if entries[i] == NONE:
                continue
            if entries[i] in self.in_use:
                entries[i] |= BUSY
                f.busy += 1
            else:
                self.plan[f.start + i] = entries[i]
        f.count = len(self.plan)
        return 0


def test_frame_plans_are_a_feature():
    assert RR_FEATURES["frame_plan"] == 1 << 7


def test_frames_are_read_into_a_buffer_a_first_call_sized():
    domain = {pfn: 0x10000 + pfn for pfn in range(700) if pfn != 5}
    xen = FrameXen(domain)
    mfns = RrControl(xen).frames(7)
    assert list(mfns) == [domain.get(pfn, NONE) for pfn in range(700)]
    # The first call asks only the size; the second has a buffer of whole pages.
    assert [(name, dom, nr) for name, dom, _, nr, *_ in xen.calls] == [
        ("get", 7, 0), ("get", 7, 1024)]


def test_frames_are_read_again_into_a_bigger_buffer_if_the_domain_grew():
    xen = FrameXen({0: 0x500}, grow={pfn: 0x600 + pfn for pfn in range(1, 1030)})
    mfns = RrControl(xen).frames(7)
    assert list(mfns) == [0x500] + [0x600 + pfn for pfn in range(1, 1030)]
    assert [nr for _, _, _, nr, *_ in xen.calls] == [0, 512, 1536]


def test_a_domain_without_frames_has_none():
    xen = FrameXen()
    assert list(RrControl(xen).frames(7)) == []
    assert len(xen.calls) == 1


def test_a_plan_goes_in_batches_the_first_starting_it():
    mfns = [0x20000 + pfn for pfn in range(1300)]
    mfns[3] = NONE
    xen = FrameXen(in_use={0x20000 + 1, 0x20000 + 600, 0x20000 + 1299})
    busy = RrControl(xen).plan_frames(HANDLE, mfns)
    assert busy == ([1, 600, 1299], False)
    assert xen.shared_info_asked == NONE
    assert [call[:6] for call in xen.calls] == [
        ("plan", 0, 0, 512, lib.XEN_RR_PLAN_new, 1300),
        ("plan", 0, 512, 512, 0, 0),
        ("plan", 0, 1024, 276, 0, 0)]
    assert xen.calls[0][6] == HANDLE
    assert xen.plan == {pfn: mfn for pfn, mfn in enumerate(mfns)
                        if mfn != NONE and pfn not in busy.pfns}


def test_the_shared_info_frame_is_read_and_planned():
    xen = FrameXen({0: 0x500}, in_use={0x3ff})
    rr = RrControl(xen)
    assert rr.shared_info(7) == 0x3ff
    refused = rr.plan_frames(HANDLE, [0x500], shared_info=0x3ff)
    assert refused == ([], True) and refused
    assert xen.shared_info_asked == 0x3ff
    assert not rr.plan_frames(HANDLE, [0x500], shared_info=0x400)


def test_a_refused_batch_says_which_and_leaves_no_plan():
    xen = FrameXen(refuse={512: errno.EEXIST})
    with pytest.raises(DomainStateError) as refused:
        RrControl(xen).plan_frames(HANDLE, range(0x1000, 0x1000 + 1300))
    assert str(refused.value) == (f"frame plan for domain {uuid.UUID(bytes=HANDLE)}, "
                                  "pfns 0x200-0x3ff: a pfn of it is already planned")
    assert refused.value.errno == errno.EEXIST
    assert [call[4] for call in xen.calls] == [lib.XEN_RR_PLAN_new, 0,
                                                lib.XEN_RR_PLAN_drop]
    assert xen.plan is None


def test_a_hypervisor_without_plans_is_named_as_such():
    xen = FrameXen(refuse={0: errno.EOPNOTSUPP})
    with pytest.raises(InterfaceMismatchError, match="no frame plans"):
        RrControl(xen).plan_frames(HANDLE, [0x1000])


def test_drop_plan():
    xen = FrameXen()
    rr = RrControl(xen)
    rr.plan_frames(HANDLE, [0x1000])
    rr.drop_plan()
    assert xen.calls[-1][:6] == ("plan", 0, 0, 0, lib.XEN_RR_PLAN_drop, 0)
    assert xen.plan is None


@pytest.mark.parametrize("handle, mfns, message", [
    (HANDLE[:15], [1], "a domain handle is 16 bytes, not 15"),
    (HANDLE, [], "a frame plan needs at least one pfn"),
])
def test_a_plan_xen_would_refuse_is_not_asked(handle, mfns, message):
    xen = FrameXen()
    with pytest.raises(UsageError, match=f"^{message}$"):
        RrControl(xen).plan_frames(handle, mfns)
    assert xen.calls == []
