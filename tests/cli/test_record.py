"""`xenrr record`: the refusals that come before anything is asked of Xen."""

import contextlib
import time

import pytest

import xenrr.cli.record
import xenrr.xlcfg.overrides
from tests.hypercalls.rrxen import RrXen
from xenrr.cli import main
from xenrr.cli.record import output_path
from xenrr.errors import UsageError
from xenrr.formats import ConfigKind

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


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text("name = 'guest'\nmemory = 512\n")
    return path


@pytest.mark.parametrize(("overrides", "message"), [
    (["memory=1024", "vcpus="], "{cfg}:5:7: expected a value after '=', found end of line "
                                "(in the override 'vcpus=')"),
    (["memory"], "override 'memory' is not KEY=VALUE"),
    (["name=''"], '{cfg}: no name = "..." setting'),
])
def test_a_bad_config_or_override_is_one_line_before_anything_is_created(
        capsys, cfg, overrides, message):
    assert main(["record", "-c", str(cfg), *overrides]) == 1
    assert capsys.readouterr() == ("", f"xenrr: {message.format(cfg=cfg)}\n")


def test_a_config_that_is_not_utf8_is_refused_before_anything_is_created(capsys, tmp_path):
    path = tmp_path / "latin1.cfg"
    path.write_bytes(b"name = 'caf\xe9'\n")
    assert main(["record", "-c", str(path)]) == 1
    assert capsys.readouterr() == ("", f"xenrr: {path}:1: byte 0xe9 is not UTF-8, and a trace "
                                       "keeps the domain's configuration as UTF-8 text\n")


def test_record_c_parses_the_config_once(capsys, cfg, monkeypatch):
    parsed = []
    parse = xenrr.xlcfg.overrides.parse
    monkeypatch.setattr(xenrr.xlcfg.overrides, "parse",
                        lambda text, source: parsed.append(source) or parse(text, source))
    created = []
    monkeypatch.setattr(xenrr.cli.record, "Privcmd", lambda: contextlib.nullcontext(RrXen()))
    monkeypatch.setattr(xenrr.cli.record, "create_paused",
                        lambda privcmd, config: created.append(config) or stop())

    def stop():
        raise UsageError("stop here")
    assert main(["record", "-c", str(cfg), "memory=1024", "-o", str(cfg.parent / "t.xrr")]) == 1
    assert capsys.readouterr().err == "xenrr: stop here\n"
    assert parsed == [str(cfg)]
    assert [(c.kind, c.name, c.xl["memory"]) for c in created] == [(ConfigKind.XL, "guest", "1024")]
