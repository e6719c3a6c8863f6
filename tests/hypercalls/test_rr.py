"""RrControl's answers, against a test double of Xen's side of the domctl."""

from xenrr.hypercalls.abi import lib

DOMCTL = getattr(lib, "__HYPERVISOR_domctl")   # a class body would mangle the name
from xenrr.hypercalls.privcmd import HypercallBuffer
from xenrr.hypercalls.rr import RrControl


class FakeXen:
    """Answers XEN_DOMCTL_rr_op get_stats in the buffer, as Xen would: each vCPU
    its own counters (position 1000 * (vcpu + 1))."""

    def __init__(self, nr_vcpus: int):
        self.nr_vcpus = nr_vcpus
        self.buffer = HypercallBuffer()

    def hypercall(self, op, addr, *, what, meanings=None):
        assert op == DOMCTL and addr == self.buffer.addr
        d = self.buffer.view("struct xen_domctl")
        assert d.cmd == lib.XEN_DOMCTL_rr_op
        assert d.u.rr_op.op == lib.XEN_DOMCTL_RR_OP_get_stats
        stats = d.u.rr_op.u.stats
        stats.mode = lib.XEN_RR_MODE_record
        stats.nr_vcpus = self.nr_vcpus
        stats.position = 1000 * (stats.vcpu + 1)
        stats.shadow_faults = stats.vcpu
        return 0


def test_each_vcpu_keeps_its_own_counters_after_later_calls():
    stats = RrControl(FakeXen(nr_vcpus=4)).stats(7)
    assert [v.vcpu for v in stats.vcpus] == [0, 1, 2, 3]
    assert [v.position for v in stats.vcpus] == [1000, 2000, 3000, 4000]
    assert [v.shadow_faults for v in stats.vcpus] == [0, 1, 2, 3]


def test_an_answer_stays_valid_while_other_calls_are_made():
    rr = RrControl(FakeXen(nr_vcpus=2))
    first = rr.vcpu_stats(7, 0)
    for _ in range(100):
        rr.vcpu_stats(7, 1)
    assert (first.vcpu, first.position) == (0, 1000)
