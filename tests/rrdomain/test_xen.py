"""rrdomain.xen.rr_mode: what entering rr mode leaves behind when it works and when it fails.

The hypercalls are replaced by a journal of what was asked of Xen; the
rings are FakeRing buffers, so the ring readers are real.
"""

import contextlib
from types import SimpleNamespace

import pytest

from tests.rrdomain.fakering import FakeRing
from xenrr.domains import Domain
from xenrr.errors import HypercallError
from xenrr.formats import PositionMode
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.rr import RingInfo
from xenrr.rrdomain import xen


class Journal(list):
    def rr(self, privcmd):
        return SimpleNamespace(enable=lambda domid, position_mode, crew: self.append(
                                   ("enable", position_mode, crew)),
                               disable=lambda domid: self.append(("disable",)),
                               ring=self.ring, stats=None)

    def ring(self, domid, vcpu):
        self.append(("ring", vcpu))
        if ("fail", "ring", vcpu) in self:
            raise HypercallError(f"no ring for vCPU {vcpu}")
        return RingInfo(2, 17)


@pytest.fixture
def journal(monkeypatch):
    j = Journal()

    @contextlib.contextmanager
    def mapping(privcmd, domid, kind, vcpu, frames, what):
        j.append(("map", vcpu))
        try:
            yield SimpleNamespace(buffer=FakeRing(frames).buffer)
        finally:
            j.append(("unmap", vcpu))

    @contextlib.contextmanager
    def channels():
        try:
            yield SimpleNamespace(bind_interdomain=lambda domid, port: j.append(("bind", port)))
        finally:
            j.append(("unbind",))

    monkeypatch.setattr(xen, "RrControl", j.rr)
    monkeypatch.setattr(xen, "ResourceMapping", mapping)
    monkeypatch.setattr(xen, "EventChannels", channels)
    monkeypatch.setattr(xen, "pause_domain", lambda privcmd, domid: j.append(("pause",)))
    monkeypatch.setattr(xen, "unpause_domain", lambda privcmd, domid: j.append(("unpause",)))
    return j


DOMAIN = Domain(3, "guest", SimpleNamespace(nr_vcpus=2))
SYNC = PositionMode.SYNC_ENTRY


@pytest.mark.parametrize("created_paused, leave_paused, pauses", [
    (False, False, [("pause",)]), (True, False, []), (True, True, [])])
def test_the_guest_runs_only_once_set_up(journal, created_paused, leave_paused, pauses):
    with xen.rr_mode(None, DOMAIN, crew=True, positions=SYNC,
                     created_paused=created_paused) as target:
        assert journal == pauses + [("enable", lib.XEN_RR_POSITION_sync_entry, True),
                                    ("ring", 0), ("map", 0), ("ring", 1), ("map", 1),
                                    ("bind", 17)]
        assert [r.vcpu for r in target.rings] == [0, 1]
        del journal[:]
        target.go(leave_paused)
        assert journal == ([] if leave_paused else [("unpause",)])
    assert journal[-3:] == [("unbind",), ("unmap", 1), ("unmap", 0)]


@pytest.mark.parametrize("created_paused", [False, True])
def test_a_failed_set_up_disables_rr_and_takes_off_only_its_own_pause(journal, created_paused):
    journal.append(("fail", "ring", 1))
    with pytest.raises(HypercallError, match="vCPU 1"):
        with xen.rr_mode(None, DOMAIN, crew=True, positions=SYNC,
                         created_paused=created_paused):
            pass
    after = journal[journal.index(("ring", 1)) + 1:]
    assert after == [("unmap", 0), ("disable",)] + ([] if created_paused else [("unpause",)])


def test_a_failure_before_go_inside_the_block_is_undone_too(journal):
    with pytest.raises(OSError):
        with xen.rr_mode(None, DOMAIN, crew=True, positions=SYNC, created_paused=False):
            raise OSError("the trace cannot be written")
    assert journal[-2:] == [("disable",), ("unpause",)]


def test_a_failure_after_go_is_left_to_the_life_cycle(journal):
    with pytest.raises(OSError):
        with xen.rr_mode(None, DOMAIN, crew=True, positions=SYNC, created_paused=False) as target:
            target.go()
            del journal[:]
            raise OSError("the recorder failed")
    assert ("disable",) not in journal and ("unpause",) not in journal


@pytest.mark.parametrize("positions, xen_mode", [
    (PositionMode.SYNC_ENTRY, lib.XEN_RR_POSITION_sync_entry),
    (PositionMode.BRANCH, lib.XEN_RR_POSITION_branch)])
def test_xen_is_asked_for_the_traces_position_mode_by_its_own_number(journal, positions,
                                                                      xen_mode):
    # The trace numbers them from 1 (SYNC_ENTRY 1, BRANCH 2), Xen from 0.
    assert positions != xen_mode
    with xen.rr_mode(None, DOMAIN, crew=True, positions=positions, created_paused=True):
        assert ("enable", xen_mode, True) in journal
    assert set(xen.XEN_POSITION_MODE) == set(PositionMode)
