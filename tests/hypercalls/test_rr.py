"""RrControl's answers, against a test double of Xen's side of the domctl."""

import errno

import pytest

from tests.hypercalls.rrxen import EVENT, SKID, RrXen
from xenrr.hypercalls.abi import RR_BRANCH, lib
from xenrr.hypercalls.errors import DomainStateError, InterfaceMismatchError, PositionModeError
from xenrr.hypercalls.privcmd import HypercallBuffer
from xenrr.hypercalls.rr import BRANCH_UNAVAILABLE, POSITION_MODES, RrControl, RrInfo

DOMCTL = getattr(lib, "__HYPERVISOR_domctl")   # a class body would mangle the name


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


def test_get_info_answers_the_branch_counter():
    info = RrControl(RrXen()).info()
    assert info == RrInfo(lib.XEN_RR_INTERFACE_VERSION,
                          frozenset({"pv", "pos_sync_entry", "pos_branch", "record", "crew",
                                     "frame_plan", "replay"}),
                          8, "available", EVENT, SKID)
    assert info.position_modes == ("sync-entry", "branch")
    assert info.branch_reason is None


@pytest.mark.parametrize("status", ["no_counter", "self_test", "speclockmap", "busy"])
def test_get_info_says_why_branch_positions_are_not_offered(status):
    info = RrControl(RrXen(status)).info()
    assert info.branch_status == status
    assert info.position_modes == ("sync-entry",)
    assert info.branch_reason == BRANCH_UNAVAILABLE[status]


def test_each_reason_is_a_sentence_of_its_own():
    assert set(BRANCH_UNAVAILABLE) == {n for n in RR_BRANCH.values() if n != "available"}
    assert len(set(BRANCH_UNAVAILABLE.values())) == len(BRANCH_UNAVAILABLE)
    assert BRANCH_UNAVAILABLE["busy"] == ("the performance counters are in use (vPMU, the "
                                          "NMI watchdog or xenoprof): boot Xen without them")


def test_a_xen_of_another_interface_version_is_refused():
    ours = lib.XEN_RR_INTERFACE_VERSION
    for version in (ours - 1, ours + 1):
        with pytest.raises(InterfaceMismatchError, match=f"^the hypervisor speaks "
                                                         f"xenrr interface {version}, this xenrr "
                                                         f"speaks {ours}: rebuild one of them$"):
            RrControl(RrXen(version=version)).info()


@pytest.mark.parametrize("mode", ["sync-entry", "branch"])
def test_enable_passes_the_position_mode(mode):
    xen = RrXen()
    RrControl(xen).enable(7, position_mode=POSITION_MODES[mode], crew=True)
    assert xen.enabled == [(7, lib.XEN_RR_MODE_record, POSITION_MODES[mode],
                            lib.XEN_RR_ENABLE_crew)]


@pytest.mark.parametrize("status, err", [("no_counter", "EOPNOTSUPP"),
                                         ("self_test", "EOPNOTSUPP"),
                                         ("speclockmap", "EOPNOTSUPP"), ("busy", "EBUSY")])
def test_enable_in_branch_mode_refused_for_the_counter_says_why(status, err):
    """get_info said available, then the counter was taken (the race): enable's errno
    gets get_info's reason."""
    xen = RrXen("available", then=status)
    rr = RrControl(xen)
    assert "branch" in rr.info().position_modes
    with pytest.raises(PositionModeError) as refused:
        rr.enable(7, position_mode=lib.XEN_RR_POSITION_branch)
    assert xen.journal == ["get_info", "enable", "get_info"]
    assert str(refused.value) == ("enable domain 7: positions by branch count are not offered "
                                  f"on this machine: {BRANCH_UNAVAILABLE[status]}")
    assert refused.value.errno == getattr(errno, err)
    assert xen.enabled == []


@pytest.mark.parametrize("err, message", [
    (errno.EBUSY, "the domain is running"),
    (errno.EOPNOTSUPP, "not supported for this domain or mode"),
])
def test_enable_errors_keep_their_meaning_when_the_counter_is_not_the_cause(err, message):
    # In branch mode with the counter available, and in sync-entry mode whatever it is.
    for status, mode in (("available", "branch"), ("busy", "sync-entry"),
                         ("no_counter", "sync-entry")):
        with pytest.raises(DomainStateError, match=f"^enable domain 7: {message}") as refused:
            RrControl(RrXen(status, enable_errno=err)).enable(
                7, position_mode=POSITION_MODES[mode])
        assert type(refused.value) is DomainStateError


def test_an_errno_that_does_not_match_the_counters_status_keeps_its_meaning():
    # Busy counters answer EBUSY, not EOPNOTSUPP; an absent one EOPNOTSUPP, not EBUSY.
    for status, err in (("busy", errno.EOPNOTSUPP), ("no_counter", errno.EBUSY)):
        with pytest.raises(DomainStateError) as refused:
            RrControl(RrXen(status, enable_errno=err)).enable(
                7, position_mode=lib.XEN_RR_POSITION_branch)
        assert type(refused.value) is DomainStateError
