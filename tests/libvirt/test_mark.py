"""`xenrr libvirt mark` against libvirt's test driver (test:///default, which keeps metadata).

The test driver's default state lives as long as a connection to it is
open in the process, so each test holds one while the command runs.
"""

import libvirt
import pytest

from xenrr.cli import main

URI = "test:///default"
NS = "urn:xenrr:record:1"


@pytest.fixture
def conn():
    libvirt.registerErrorHandler(lambda *_: None, None)
    c = libvirt.open(URI)
    yield c
    c.close()


def stored(conn, name="test"):
    dom = conn.lookupByName(name)
    try:
        return dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS,
                            libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    except libvirt.libvirtError:
        return None


def mark(*args):
    return main(["libvirt", "mark", *args, "--connect", URI])


def test_mark_sets_the_element_in_the_persistent_definition(conn, capsys):
    assert mark("test", "--dir", "/srv/traces") == 0
    assert stored(conn) == '<record dir="/srv/traces"/>'
    assert capsys.readouterr() == ("", "xenrr: test is recorded into /srv/traces from its next "
                                       "start\n")
    xml = conn.lookupByName("test").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert f'<xenrr:record xmlns:xenrr="{NS}" dir="/srv/traces"/>' in xml


def test_strict_and_the_default_directory(conn, capsys):
    assert mark("test", "--strict") == 0
    assert stored(conn) == '<record dir="/var/lib/xenrr/traces" strict="yes"/>'
    assert capsys.readouterr().err == ("xenrr: test is recorded into /var/lib/xenrr/traces from "
                                       "its next start (strict: it does not start unrecorded)\n")


def test_marking_again_replaces_the_element(conn):
    mark("test", "--dir", "/a", "--strict")
    mark("test", "--dir", "/b")
    assert stored(conn) == '<record dir="/b"/>'


def test_a_domain_is_found_by_uuid(conn):
    uuid = conn.lookupByName("test").UUIDString()
    assert mark(uuid, "--dir", "/a") == 0
    assert stored(conn) == '<record dir="/a"/>'


def test_unmark_removes_it(conn, capsys):
    mark("test", "--dir", "/a")
    capsys.readouterr()
    assert mark("test", "--unmark") == 0
    assert stored(conn) is None
    assert capsys.readouterr().err == "xenrr: test is no longer recorded\n"
    assert mark("test", "--unmark") == 0
    assert capsys.readouterr().err == "xenrr: test was not marked\n"


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "xenrr: libvirt knows no domain 'nope'\n"),
    (["test", "--dir", "traces"], "xenrr: the trace directory 'traces' is not an absolute path "
                                  "(libvirtd runs the hook from /)\n"),
    (["test", "--unmark", "--dir", "/a"], "xenrr: --unmark takes no --dir or --strict\n"),
])
def test_bad_requests_are_one_line(conn, capsys, args, message):
    assert mark(*args) == 1
    assert capsys.readouterr() == ("", message)
    assert stored(conn) is None


def test_an_unreachable_libvirt_is_one_line(capsys):
    assert main(["libvirt", "mark", "test", "--connect", "bogus:///x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("xenrr: cannot connect to bogus:///x: ") and err.count("\n") == 1
