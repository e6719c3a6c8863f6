"""record.session: the position mode chosen (auto, or as asked), and the one mode that
Xen, the trace's header and the recorder then all get."""

import contextlib
import threading
from types import SimpleNamespace

import pytest

from tests.hypercalls.rrxen import RrXen
from tests.crew.test_constraints import as_record, racing_recording
from tests.record.test_recorder import FakeDomain, from_zero
from xenrr.hypercalls.abi import lib
from xenrr.domains import Domain
from xenrr.domconfig import DomainConfig
from xenrr.errors import UsageError
from xenrr.formats import ConfigKind, EndReason, PositionMode, TraceReader
from xenrr.hypercalls.errors import NoSuchDomainError, PositionModeError
from xenrr.hypercalls.rr import BRANCH_UNAVAILABLE, RrControl
from xenrr.hypercalls.xenver import XenVersion
from xenrr.record import recorder, session
from xenrr.rrdomain.rings import RingProtocolError, RingReader

REASONS = sorted(BRANCH_UNAVAILABLE)


def info(status="available"):
    return RrControl(RrXen(status)).info()


def test_auto_takes_branch_counts_where_xen_offers_them():
    assert session.choose_positions(info(), "auto") == (PositionMode.BRANCH, None)


@pytest.mark.parametrize("status", REASONS)
def test_auto_falls_back_to_sync_entry_and_says_why_in_one_line(status):
    assert session.choose_positions(info(status)) == (
        PositionMode.SYNC_ENTRY, "positions: sync-entry (this CPU has no branch counter Xen "
                                 f"can use: {BRANCH_UNAVAILABLE[status]})")


@pytest.mark.parametrize("status", ["available", *REASONS])
def test_sync_entry_asked_for_is_had_silently(status):
    assert session.choose_positions(info(status), "sync-entry") == (PositionMode.SYNC_ENTRY,
                                                                    None)


def test_branch_asked_for_is_had_where_offered():
    assert session.choose_positions(info(), "branch") == (PositionMode.BRANCH, None)


@pytest.mark.parametrize("status", REASONS)
def test_branch_asked_for_where_not_offered_is_refused_with_the_reason(status):
    with pytest.raises(PositionModeError) as refused:
        session.choose_positions(info(status), "branch")
    assert str(refused.value) == ("positions by branch count are not offered on this "
                                  f"machine: {BRANCH_UNAVAILABLE[status]}")


def test_an_unknown_mode_is_a_usage_error():
    with pytest.raises(UsageError, match="choose auto, sync-entry, branch"):
        session.choose_positions(info(), "instructions")


def test_the_names_map_onto_the_traces_modes_one_to_one():
    assert session.TRACE_POSITION_MODES == {"sync-entry": PositionMode.SYNC_ENTRY,
                                            "branch": PositionMode.BRANCH}
    assert session.POSITION_NAMES == {PositionMode.SYNC_ENTRY: "sync-entry",
                                      PositionMode.BRANCH: "branch"}


class Target(FakeDomain):
    """A domain in rr mode, as rr_mode yields it (its rings read by RingReaders), that logs
    `entries` and shuts down."""

    def __init__(self, entries):
        super().__init__(entries, 2)
        self.fake_rings = self.rings
        self.rings = [RingReader(r.buffer, v) for v, r in enumerate(self.rings)]

    def wait(self, timeout):
        readers, self.rings = self.rings, self.fake_rings
        try:
            super().wait(timeout)
        finally:
            self.rings = readers

    def go(self, leave_paused=False):
        pass


def gone(privcmd, domid):
    raise NoSuchDomainError(f"no domain {domid}")


@pytest.fixture
def recording(monkeypatch, tmp_path):
    """record_domain against RrXen, rr_mode and the recorder's mode noted on the way."""
    seen = {}

    @contextlib.contextmanager
    def rr_mode(privcmd, domain, *, crew, created_paused, positions):
        seen["xen"] = positions
        yield Target(seen.get("entries", []))

    def record(target, rings, writer, stop, progress=None, *, positions, end_state):
        seen["recorder"] = positions
        writer.close(EndReason.SHUTDOWN)
        return EndReason.SHUTDOWN

    monkeypatch.setattr(session, "rr_mode", rr_mode)
    monkeypatch.setattr(session, "record", record)
    monkeypatch.setattr(session, "xen_version", lambda privcmd: XenVersion(4, 17, ".5", ""))
    domain = Domain(5, "guest", SimpleNamespace(nr_vcpus=2, hvm=False))
    config = DomainConfig(ConfigKind.XL, "name = 'guest'\n", "guest")

    def run(xen, positions="auto"):
        said = []
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.xrr"
        reason = session.record_domain(xen, domain, path, config, created_paused=True,
                                       leave_paused=False, stop=threading.Event(),
                                       positions=positions, say=said.append)
        with TraceReader(path) as reader:
            header = reader.header
        return reason, header, said
    return run, seen


@pytest.mark.parametrize("status, asked, mode", [
    ("available", "auto", PositionMode.BRANCH), ("available", "branch", PositionMode.BRANCH),
    ("available", "sync-entry", PositionMode.SYNC_ENTRY),
    ("busy", "auto", PositionMode.SYNC_ENTRY), ("self_test", "auto", PositionMode.SYNC_ENTRY)])
def test_xen_the_header_and_the_recorder_get_the_mode_chosen(recording, status, asked, mode):
    run, seen = recording
    reason, header, said = run(RrXen(status), asked)
    assert reason == EndReason.SHUTDOWN
    assert (header.position_mode, seen["xen"], seen["recorder"]) == (mode, mode, mode)
    assert header.xenrr_interface == lib.XEN_RR_INTERFACE_VERSION
    assert said == ([] if status == "available" else
                    [f"positions: sync-entry (this CPU has no branch counter Xen can use: "
                     f"{BRANCH_UNAVAILABLE[status]})"])


def test_branch_refused_leaves_the_domain_alone_and_writes_nothing(recording, tmp_path):
    run, seen = recording
    xen = RrXen("speclockmap")
    with pytest.raises(PositionModeError, match="SpecLockMap"):
        run(xen, "branch")
    assert seen == {} and xen.journal == ["get_info"] and list(tmp_path.iterdir()) == []


def test_the_real_recorder_is_run_in_the_headers_mode(monkeypatch, recording):
    """Xen's log (changes at count 0, no crew_place): recorded in BRANCH mode where Xen
    offers it, else in SYNC_ENTRY mode, and the header says which."""
    run, seen = recording
    monkeypatch.setattr(session, "record", recorder.record)
    monkeypatch.setattr(session, "getdomaininfo", gone)
    seen["entries"] = [from_zero(as_record(e)) for e in racing_recording().events]
    reason, header, said = run(RrXen("available"), "auto")
    assert (reason, header.position_mode) == (EndReason.SHUTDOWN, PositionMode.BRANCH)
    # Destroyed as it shut down: the trace has no end state, and the user is told why.
    assert said == ["no end state kept: domain 5 was destroyed as it shut down "
                    '(on_poweroff="preserve" keeps it, and replay can then compare its end)']
    reason, header, _ = run(RrXen("busy"), "auto")
    assert (reason, header.position_mode) == (EndReason.SHUTDOWN, PositionMode.SYNC_ENTRY)
