"""The recorder the hook starts (`xenrr libvirt record-when-created`): the XML it is given."""

import contextlib
import io
import sys

import pytest

from xenrr.cli import main
from xenrr.cli.libvirt import recorder as cli_recorder
from xenrr.formats import ConfigKind

from tests.libvirt.sample import UUID, marked


def argv(tmp_path):
    return ["libvirt", "record-when-created", UUID, "--name", "guest",
            "--output", str(tmp_path / "t.xrr"), "--log", str(tmp_path / "t.log")]


def test_what_is_not_a_domain_xml_is_one_line_before_anything_is_done(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("<domain><name>guest"))
    monkeypatch.setattr(cli_recorder, "RecorderLock", lambda uuid: pytest.fail("took the lock"))
    assert main(argv(tmp_path)) == 1
    assert capsys.readouterr() == ("", "xenrr: the libvirt domain XML does not parse: no element "
                                       "found: line 1, column 19\n")


def test_the_domain_xml_is_recorded_as_libvirt_xml(tmp_path, capsys, monkeypatch):
    xml = marked('dir="/var/lib/xenrr/traces"')
    given = []

    class Lock:
        def __init__(self, uuid):
            pass

        def acquire(self):
            pass
    monkeypatch.setattr(sys, "stdin", io.StringIO(xml))
    monkeypatch.setattr(cli_recorder, "RecorderLock", Lock)
    monkeypatch.setattr(cli_recorder, "Privcmd", contextlib.nullcontext)
    monkeypatch.setattr(cli_recorder, "Xenstore", contextlib.nullcontext)
    monkeypatch.setattr(cli_recorder, "CreationWatch", lambda xs, uuid: None)
    monkeypatch.setattr(cli_recorder, "_detach_output", lambda log: None)
    monkeypatch.setattr(cli_recorder, "record_created",
                        lambda *args, config, **kwargs: given.append(config))
    assert main(argv(tmp_path)) == 0
    assert [(c.kind, c.name, c.text) for c in given] == [(ConfigKind.LIBVIRT_XML, "guest", xml)]
