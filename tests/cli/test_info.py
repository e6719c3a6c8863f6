"""`xenrr info` and `xenrr status` where there is no Xen: one line, exit status 1."""

import pytest

from xenrr.cli import main
from xenrr.hypercalls import privcmd


@pytest.fixture
def no_xen(monkeypatch, tmp_path):
    monkeypatch.setattr(privcmd, "PRIVCMD", str(tmp_path / "privcmd"))


@pytest.mark.parametrize("argv", [["info"], ["info", "--json"], ["status", "guest"],
                                  ["status", "3", "--watch"]])
def test_without_xen_the_commands_say_so(no_xen, tmp_path, capsys, argv):
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"xenrr: no Xen privcmd device ({tmp_path / 'privcmd'}): this is not a "
                   "Xen dom0 (or the xen-privcmd module is not loaded)\n")


def test_a_privcmd_that_is_not_one(monkeypatch, capsys):
    monkeypatch.setattr(privcmd, "PRIVCMD", "/dev/null")
    assert main(["info"]) == 1
    assert capsys.readouterr().err == "xenrr: /dev/null is not a Xen privcmd device\n"
