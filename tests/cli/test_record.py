"""`xenrr record`: the refusals that come before anything is asked of Xen."""

import time

import pytest

from xenrr.cli import main
from xenrr.cli.record import output_path

DOM0 = "xenrr: domain 0 is the control domain: it cannot be recorded\n"


@pytest.mark.parametrize("spec", ["0", "00", "Domain-0"])
def test_dom0_is_refused(capsys, spec):
    assert main(["record", spec]) == 1
    assert capsys.readouterr() == ("", DOM0)


def test_an_existing_trace_is_refused_without_force(capsys, tmp_path):
    trace = tmp_path / "t.xrr"
    trace.write_bytes(b"keep me")
    assert main(["record", "guest", "-o", str(trace)]) == 1
    assert capsys.readouterr() == ("", f"xenrr: {trace} exists: give --force to replace it\n")
    assert trace.read_bytes() == b"keep me"


def test_an_output_in_a_missing_directory_is_refused(capsys, tmp_path):
    trace = tmp_path / "nowhere" / "t.xrr"
    assert main(["record", "guest", "-o", str(trace)]) == 1
    assert capsys.readouterr() == ("", f"xenrr: {trace}: no directory {trace.parent}\n")


@pytest.mark.parametrize(("argv", "message"), [
    (["record"], "name one DOMAIN to record, or give -c CFG [KEY=VALUE...]"),
    (["record", "a", "b"], "name one DOMAIN to record, or give -c CFG [KEY=VALUE...]"),
    (["record", "-p", "guest"], "-p applies to a domain created with -c"),
])
def test_bad_arguments_get_one_line(capsys, argv, message):
    assert main(argv) == 1
    assert capsys.readouterr() == ("", f"xenrr: {message}\n")


def test_the_default_trace_is_named_after_the_domain_and_the_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(86400 * 365))
    assert str(output_path(None, "guest", False, now=86400 * 365)) == f"guest-{stamp}.xrr"


def test_force_lets_an_existing_trace_be_replaced(tmp_path):
    trace = tmp_path / "t.xrr"
    trace.write_bytes(b"")
    assert output_path(trace, "guest", True) == trace
