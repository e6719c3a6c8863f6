"""`xenrr record --positions`: the mode chosen, said, refused, against a test double of Xen."""

import contextlib
from types import SimpleNamespace

import pytest

import xenrr.cli.record
from tests.hypercalls.rrxen import RrXen
from xenrr.cli import main
from xenrr.domains import Domain
from xenrr.formats import EndReason
from xenrr.hypercalls.rr import BRANCH_UNAVAILABLE

REASONS = sorted(BRANCH_UNAVAILABLE)
BUSY = ("the performance counters are in use (vPMU, the NMI watchdog or xenoprof): boot Xen "
        "without them")


@pytest.fixture
def xenrr_record(monkeypatch, tmp_path):
    """main(["record", ...]) on a Xen as `xen` (an RrXen) answers; a running domain 5
    "guest"; record_domain's arguments noted unless `real`."""
    calls = {}

    def run(xen, *argv, real=False):
        monkeypatch.setattr(xenrr.cli.record, "Privcmd", lambda: contextlib.nullcontext(xen))
        monkeypatch.setattr(xenrr.cli.record, "resolve", lambda privcmd, spec: calls.setdefault(
            "domain", Domain(5, "guest", SimpleNamespace(nr_vcpus=2, hvm=False))))
        monkeypatch.setattr(xenrr.cli.record.DomainConfig, "from_running_domain",
                            classmethod(lambda cls, domid: "config"))
        monkeypatch.setattr(xenrr.cli.record, "create_paused",
                            lambda privcmd, config: pytest.fail("a domain was created"))
        if not real:
            def record_domain(privcmd, domain, path, config, **kwargs):
                calls["record"] = kwargs
                return EndReason.SHUTDOWN
            monkeypatch.setattr(xenrr.cli.record, "record_domain", record_domain)
        return main(["record", *argv, "-q", "-o", str(tmp_path / "t.xrr")])
    return run, calls


def test_auto_records_branch_counts_where_xen_offers_them(xenrr_record, capsys, tmp_path):
    run, calls = xenrr_record
    assert run(RrXen("available"), "guest") == 0
    assert calls["record"]["positions"] == "branch"
    assert capsys.readouterr() == ("", f"xenrr: domain 5 recorded to {tmp_path / 't.xrr'} "
                                       "(shutdown)\n")


@pytest.mark.parametrize("status", REASONS)
def test_auto_falls_back_to_sync_entry_and_says_why_first(xenrr_record, capsys, tmp_path,
                                                          status):
    run, calls = xenrr_record
    assert run(RrXen(status), "guest", "--positions", "auto") == 0
    assert calls["record"]["positions"] == "sync-entry"
    assert capsys.readouterr() == ("", (
        "xenrr: positions: sync-entry (this CPU has no branch counter Xen can use: "
        f"{BRANCH_UNAVAILABLE[status]})\n"
        f"xenrr: domain 5 recorded to {tmp_path / 't.xrr'} (shutdown)\n"))


@pytest.mark.parametrize("status", ["available", *REASONS])
def test_sync_entry_asked_for_is_recorded_so_without_a_word(xenrr_record, capsys, tmp_path,
                                                           status):
    run, calls = xenrr_record
    assert run(RrXen(status), "guest", "--positions", "sync-entry") == 0
    assert calls["record"]["positions"] == "sync-entry"
    assert capsys.readouterr().err == f"xenrr: domain 5 recorded to {tmp_path / 't.xrr'} " \
                                      "(shutdown)\n"


@pytest.mark.parametrize("status", REASONS)
@pytest.mark.parametrize("created", [False, True])
def test_branch_where_not_offered_is_one_line_before_any_domain_is_touched(
        xenrr_record, capsys, tmp_path, status, created):
    run, calls = xenrr_record
    if created:
        cfg = tmp_path / "guest.cfg"
        cfg.write_text("name = 'guest'\n")
        argv = ["-c", str(cfg)]   # create_paused fails the test if called
    else:
        argv = ["guest"]
    xen = RrXen(status)
    assert run(xen, *argv, "--positions", "branch") == 1
    assert capsys.readouterr() == ("", "xenrr: positions by branch count are not offered on "
                                       f"this machine: {BRANCH_UNAVAILABLE[status]}\n")
    assert calls == {} and xen.journal == ["get_info"]


def test_the_busy_sentence_says_what_to_do(xenrr_record, capsys):
    run, _ = xenrr_record
    assert run(RrXen("busy"), "guest", "--positions", "branch") == 1
    assert capsys.readouterr().err.endswith(f": {BUSY}\n")


@pytest.mark.parametrize("asked", ["auto", "branch"])
def test_counters_taken_between_get_info_and_enable_are_refused_with_their_reason(
        xenrr_record, capsys, tmp_path, asked):
    """The real session and rr_mode: get_info offers branch counts (to the command and to
    the session), enable answers EBUSY."""
    run, _ = xenrr_record
    xen = RrXen("available", then="busy", infos=2)
    assert run(xen, "guest", "--positions", asked, real=True) == 1
    assert capsys.readouterr() == ("", "xenrr: enable domain 5: positions by branch count are "
                                       f"not offered on this machine: {BUSY}\n")
    # Our pause taken off again, nothing enabled, no trace left behind.
    assert xen.journal == ["get_info", "get_info", "pause", "enable", "get_info", "unpause"]
    assert xen.enabled == [] and list(tmp_path.iterdir()) == []


def test_an_unknown_mode_is_refused_before_xen_is_asked(monkeypatch, capsys):
    monkeypatch.setattr(xenrr.cli.record, "Privcmd", lambda: pytest.fail("Xen was asked"))
    assert main(["record", "guest", "--positions", "instructions"]) == 1
    assert capsys.readouterr() == ("", "xenrr: --positions instructions: choose auto, branch "
                                       "or sync-entry\n")
