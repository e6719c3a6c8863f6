"""`xenrr lab` commands' answers to input they cannot act on (no QEMU needed)."""

import pytest

from xenrr.cli import main
from xenrr.lab.xenbuild import hypervisor_series


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XENRR_CACHE", str(tmp_path / "cache"))


def test_run_without_a_built_hypervisor_says_how_to_build_it(empty_cache, capsys):
    assert main(["lab", "run", "--", "true"]) == 1
    err = capsys.readouterr().err
    assert err == (f"xenrr: no hypervisor built for this patch series ({hypervisor_series().digest}): "
                   "run `xenrr lab build` first\n")


def test_run_release_names_the_release_build(empty_cache, capsys):
    assert main(["lab", "run", "--release", "--", "true"]) == 1
    assert "run `xenrr lab build --release` first" in capsys.readouterr().err


def test_run_with_a_missing_xen_file(tmp_path, capsys):
    assert main(["lab", "run", "--xen", str(tmp_path / "nope"), "--", "true"]) == 1
    assert capsys.readouterr().err == f"xenrr: {tmp_path / 'nope'}: no such file\n"


def test_domu_with_a_missing_config(tmp_path, capsys):
    assert main(["lab", "domu", str(tmp_path / "guest.cfg")]) == 1
    assert capsys.readouterr().err == f"xenrr: {tmp_path / 'guest.cfg'}: no such file\n"


def test_guest_micro_and_workload_are_exclusive(capsys):
    assert main(["lab", "guest", "--micro", "race", "--workload", "race"]) == 1
    assert "exclusive" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("xenrr 0.")
