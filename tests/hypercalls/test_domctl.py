"""getvcpucontext (a context bigger than a page, in a buffer of its own) and page types."""

import errno

import pytest

from tests.hypercalls.test_rr import DOMCTL
from xenrr.errors import UsageError
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.domctl import getvcpucontext, page_types
from xenrr.hypercalls.errors import raise_for
from xenrr.hypercalls.privcmd import PAGE, HypercallBuffer

SIZE = ffi.sizeof("struct vcpu_guest_context")


class ContextXen:
    """Answers XEN_DOMCTL_getvcpucontext as Xen does for a domain of `vcpus` vCPUs, of
    which `down` were never brought up: each byte of a context is its offset's low byte
    plus the vCPU's number, and rip the vCPU's number times 0x1000."""

    def __init__(self, vcpus=2, down=()):
        self.vcpus = vcpus
        self.down = set(down)
        self.buffer = HypercallBuffer()
        self.contexts = []   # the address each call named

    def hypercall(self, op, addr, *, what, meanings=None):
        d = self.buffer.view("struct xen_domctl")
        assert (op, addr, d.cmd) == (DOMCTL, self.buffer.addr, lib.XEN_DOMCTL_getvcpucontext)
        vcpu, ctxt = d.u.vcpucontext.vcpu, d.u.vcpucontext.ctxt
        self.contexts.append(ctxt)
        if vcpu >= self.vcpus:
            raise_for(errno.EINVAL, what, meanings)
        if vcpu in self.down:
            raise_for(errno.ENODATA, what, meanings)
        ffi.memmove(ffi.cast("char *", ctxt), bytes((i + vcpu) % 256 for i in range(SIZE)),
                    SIZE)
        ffi.cast("struct vcpu_guest_context *", ctxt).user_regs.rip = vcpu * 0x1000
        return 0


def test_the_context_comes_whole_from_a_buffer_of_its_own():
    xen = ContextXen()
    raw = getvcpucontext(xen, 7, 1)
    assert len(raw) == SIZE > PAGE
    context = ffi.new("struct vcpu_guest_context *")
    ffi.memmove(context, raw, SIZE)
    assert context.user_regs.rip == 0x1000
    assert raw[-1] == (SIZE - 1 + 1) % 256
    ctxt, = xen.contexts
    assert ctxt % PAGE == 0 and ctxt != xen.buffer.addr


def test_a_vcpu_xen_does_not_have_is_refused():
    with pytest.raises(UsageError, match="^context of vCPU 2 of domain 7: no such vCPU$"):
        getvcpucontext(ContextXen(down={1}), 7, 2)


def test_a_vcpu_never_brought_up_has_no_context():
    assert getvcpucontext(ContextXen(down={1}), 7, 1) is None


class TypesXen:
    """Answers XEN_DOMCTL_getpageframeinfo3 as Xen does: each mfn's entry replaced by its
    type (here: frames from 0x2000 up are L4 tables)."""

    def __init__(self):
        self.buffer = HypercallBuffer()
        self.batches = []

    def hypercall(self, op, addr, *, what, meanings=None):
        d = self.buffer.view("struct xen_domctl")
        assert d.cmd == lib.XEN_DOMCTL_getpageframeinfo3 and d.domain == 7
        n = d.u.getpageframeinfo3.num
        entries = ffi.cast("uint64_t *", d.u.getpageframeinfo3.array)
        self.batches.append(n)
        for i in range(n):
            entries[i] = lib.XEN_DOMCTL_PFINFO_L4TAB if entries[i] >= 0x2000 else 0
        return 0


def test_page_types_go_in_batches_xen_takes():
    xen = TypesXen()
    mfns = list(range(0x1800, 0x1800 + 2500))
    types = page_types(xen, 7, mfns)
    assert xen.batches == [1024, 1024, 452]
    assert types == [lib.XEN_DOMCTL_PFINFO_L4TAB if m >= 0x2000 else 0 for m in mfns]
