"""`xenrr info`: the position modes this machine offers, as text and as JSON."""

import contextlib
import json

import pytest

import xenrr.cli.info
from tests.hypercalls.rrxen import EVENT, SKID, RrXen
from xenrr.hypercalls.abi import lib
from xenrr.cli import main
from xenrr.hypercalls.rr import BRANCH_UNAVAILABLE
from xenrr.hypercalls.xenver import XenVersion

REASONS = sorted(BRANCH_UNAVAILABLE)


@pytest.fixture
def xenrr_info(monkeypatch, capsys):
    def run(xen, *argv):
        monkeypatch.setattr(xenrr.cli.info, "Privcmd", lambda: contextlib.nullcontext(xen))
        monkeypatch.setattr(xenrr.cli.info, "xen_version",
                            lambda privcmd: XenVersion(4, 17, ".5", "xenrr series 0123"))
        assert main(["info", *argv]) == 0
        out, err = capsys.readouterr()
        assert err == ""
        return out
    return run


def test_branch_offered_with_its_event_and_skid(xenrr_info):
    assert xenrr_info(RrXen("available")) == (
        "hypervisor:       Xen 4.17.5 (xenrr series 0123)\n"
        f"xenrr interface:  {lib.XEN_RR_INTERFACE_VERSION}\n"
        "features:         crew, frame_plan, pos_branch, pos_sync_entry, pv, record, replay\n"
        "max vCPUs:        8 per domain\n"
        "positions:        sync-entry\n"
        f"                  branch (event {EVENT:#x}, skid {SKID} branches)\n")


@pytest.mark.parametrize("status", REASONS)
def test_branch_not_offered_says_why(xenrr_info, status):
    out = xenrr_info(RrXen(status))
    assert out.endswith("positions:        sync-entry\n"
                        f"                  branch: not offered: {BRANCH_UNAVAILABLE[status]}\n")
    assert "pos_branch" not in out


def test_a_skid_of_one_branch(xenrr_info, monkeypatch):
    monkeypatch.setattr("tests.hypercalls.rrxen.SKID", 1)
    assert xenrr_info(RrXen()).endswith(f"branch (event {EVENT:#x}, skid 1 branch)\n")


def test_json_offered(xenrr_info):
    out = json.loads(xenrr_info(RrXen("available"), "--json"))
    assert out["xenrr"] == {
        "interface_version": lib.XEN_RR_INTERFACE_VERSION,
        "features": ["crew", "frame_plan", "pos_branch", "pos_sync_entry", "pv", "record",
                     "replay"],
        "max_vcpus": 8}
    assert out["position_modes"] == {
        "sync-entry": {"offered": True, "reason": None},
        "branch": {"offered": True, "reason": None, "status": "available", "event": EVENT,
                   "skid": SKID}}
    assert out["xen"]["version"] == "4.17.5"


@pytest.mark.parametrize("status", REASONS)
def test_json_not_offered(xenrr_info, status):
    out = json.loads(xenrr_info(RrXen(status), "--json"))["position_modes"]
    assert out == {
        "sync-entry": {"offered": True, "reason": None},
        "branch": {"offered": False, "reason": BRANCH_UNAVAILABLE[status], "status": status,
                   "event": 0 if status == "no_counter" else EVENT, "skid": SKID}}


def test_the_help_documents_every_json_field(capsys):
    assert main(["info", "--help"]) == 0
    text = capsys.readouterr().out
    for field in ("interface_version", "features", "max_vcpus", "position_modes", "sync-entry",
                  "branch", "offered", "status", "reason", "event", "skid", *REASONS):
        assert field in text
