"""A domain's configuration: each source, read once, tagged with its kind in the trace."""

import json
import subprocess

import pytest

import xenrr.xlcfg.overrides
from xenrr import domains, domconfig
from xenrr.domconfig import DomainConfig
from xenrr.errors import ConfigError, ToolstackError, UsageError
from xenrr.formats import ConfigKind, TraceReader, TraceWriter
from xenrr.hypercalls.domctl import DomainInfo
from xenrr.hypercalls.errors import DomainStateError, NoSuchDomainError
from xenrr.hypercalls.xenver import XenVersion
from xenrr.record import session
from xenrr.xlcfg import ConfigSyntaxError

from tests.libvirt.sample import XML, marked

CFG = "name = 'guest'\nmemory = 512\nvcpus = 2\n"

# `xl list -l 5` of a PV domain under Xen 4.17 (trimmed): libxl's domain configuration.
XL_LIST = """[
    {
        "domid": 5,
        "config": {
            "c_info": {
                "type": "pv",
                "name": "guest",
                "uuid": "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
            },
            "b_info": {
                "max_vcpus": 2,
                "max_memkb": 524288,
                "type.pv": {
                    "kernel": "/var/cache/xenrr/guest/vmlinux"
                }
            },
            "on_poweroff": "destroy"
        }
    }
]
"""


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text(CFG)
    return path


@pytest.fixture
def parses(monkeypatch):
    """How many times xl configuration text is parsed."""
    calls = []
    parse = xenrr.xlcfg.overrides.parse

    def counting(text, source):
        calls.append(source)
        return parse(text, source)
    monkeypatch.setattr(xenrr.xlcfg.overrides, "parse", counting)
    return calls


# An xl file with overrides

def test_an_xl_file_with_overrides_is_stored_as_xl_parses_it(cfg):
    config = DomainConfig.from_xl_file(cfg, ["name='guest2'", "memory=1024"])
    assert (config.kind, config.name, config.path) == (ConfigKind.XL, "guest2", cfg)
    assert config.overrides == ("name='guest2'", "memory=1024")
    assert config.source == CFG
    # xl create appends "\n", each override and "\n", and "\n" to the file's text
    assert config.text == CFG + "\nname='guest2'\nmemory=1024\n\n"
    assert dict(config.xl) == {"name": "guest2", "memory": "1024", "vcpus": "2"}


def test_an_xl_file_without_overrides_is_stored_as_it_is(cfg):
    config = DomainConfig.from_xl_file(cfg)
    assert config.text == CFG and config.overrides == () and config.name == "guest"


def test_an_xl_file_is_read_and_parsed_once(cfg, parses):
    config = DomainConfig.from_xl_file(cfg, ["memory=1024"])
    assert parses == [str(cfg)]
    assert (config.name, config.xl["memory"], config.text.count("memory")) == ("guest", "1024", 2)
    assert parses == [str(cfg)]


def test_a_syntax_error_in_an_override_names_it(cfg, parses):
    with pytest.raises(ConfigSyntaxError) as e:
        DomainConfig.from_xl_file(cfg, ["memory=1024", "vcpus="])
    assert str(e.value) == (f"{cfg}:6:7: expected a value after '=', found end of line "
                            "(in the override 'vcpus=')")
    assert len(parses) == 1


def test_an_override_that_is_not_key_value_is_refused(cfg):
    with pytest.raises(UsageError, match="^override 'memory' is not KEY=VALUE$"):
        DomainConfig.from_xl_file(cfg, ["memory"])


def test_an_xl_file_without_a_name_is_refused(tmp_path):
    path = tmp_path / "anon.cfg"
    path.write_text("memory = 512\n")
    with pytest.raises(UsageError, match=f'^{path}: no name = "..." setting$'):
        DomainConfig.from_xl_file(path)


def test_a_missing_xl_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.cfg: cannot read the domain configuration: "
                                          r"No such file or directory$"):
        DomainConfig.from_xl_file(tmp_path / "nope.cfg")


def test_bytes_that_are_not_utf8_are_refused_with_their_line(tmp_path):
    path = tmp_path / "latin1.cfg"
    path.write_bytes(b"name = 'guest'\n# caf\xe9\nmemory = 512\n")
    with pytest.raises(ConfigError) as e:
        DomainConfig.from_xl_file(path)
    assert str(e.value) == (f"{path}:2: byte 0xe9 is not UTF-8, and a trace keeps the domain's "
                            "configuration as UTF-8 text")


def test_an_override_that_is_not_utf8_is_named(cfg):
    override = b"extra='caf\xe9'".decode("utf-8", "surrogateescape")   # as Python gives argv
    with pytest.raises(ConfigError) as e:
        DomainConfig.from_xl_file(cfg, [override])
    assert str(e.value) == (f"{cfg}: the override 'extra='caf\\xe9'': byte 0xe9 is not UTF-8, "
                            "and a trace keeps the domain's configuration as UTF-8 text")


def test_create_paused_hands_xl_the_file_and_its_overrides_without_parsing_again(
        cfg, parses, monkeypatch):
    config = DomainConfig.from_xl_file(cfg, ["name='guest2'"])
    ran, created = [], []

    def xl(*args):
        ran.append(args)
        created.append(True)
        return subprocess.CompletedProcess(["xl", *args], 0, "", "")

    def resolve(privcmd, spec):
        if not created:
            raise NoSuchDomainError(f"no domain named {spec!r}")
        return domains.Domain(9, spec, None)
    monkeypatch.setattr(domains, "xl", xl)
    monkeypatch.setattr(domains, "resolve", resolve)
    assert domains.create_paused(None, config) == domains.Domain(9, "guest2", None)
    assert ran == [("create", "-p", str(cfg), "name='guest2'")]
    assert len(parses) == 1


def test_create_paused_refuses_a_name_in_use_before_xl_runs(cfg, monkeypatch):
    monkeypatch.setattr(domains, "xl", lambda *args: pytest.fail(f"xl {args} ran"))
    monkeypatch.setattr(domains, "resolve", lambda privcmd, spec: domains.Domain(3, spec, None))
    with pytest.raises(DomainStateError, match="^a domain named guest already exists$"):
        domains.create_paused(None, DomainConfig.from_xl_file(cfg))


def test_what_xl_create_said_when_it_failed_is_one_line(cfg, monkeypatch):
    said = (f"Parsing config from {cfg}\n"
            "libxl: error: libxl_create.c:720:libxl__domain_make: domain creation fail: "
            "No space left on device\n"
            "libxl: error: libxl_create.c:1289:initiate_domain_create: cannot make domain: -3\n")
    monkeypatch.setattr(domains, "xl", lambda *args: subprocess.CompletedProcess(
        ["xl", *args], 3, "", said))
    monkeypatch.setattr(domains, "resolve", lambda privcmd, spec: (_ for _ in ()).throw(
        NoSuchDomainError(spec)))
    with pytest.raises(ToolstackError) as e:
        domains.create_paused(None, DomainConfig.from_xl_file(cfg))
    assert str(e.value) == (
        f"xl create {cfg} failed: libxl: error: libxl_create.c:720:libxl__domain_make: domain "
        "creation fail: No space left on device; libxl: error: libxl_create.c:1289:"
        "initiate_domain_create: cannot make domain: -3")


# A running domain: xl list -l

def fake_xl(monkeypatch, returncode=0, stdout="", stderr=""):
    ran = []

    def xl(*args):
        ran.append(args)
        return subprocess.CompletedProcess(["xl", *args], returncode, stdout, stderr)
    monkeypatch.setattr(domconfig, "xl", xl)
    return ran


def test_a_running_domain_is_what_xl_list_prints(monkeypatch):
    ran = fake_xl(monkeypatch, stdout=XL_LIST)
    config = DomainConfig.from_running_domain(5)
    assert ran == [("list", "-l", "5")]
    assert (config.kind, config.name, config.text) == (ConfigKind.XL_JSON, "guest", XL_LIST)
    assert config.path is None and config.overrides == () and config.xl is None


@pytest.mark.parametrize("returncode, stdout, stderr, message", [
    (1, "", "libxl: error: ... domain 5 not found\n",
     "xl list -l 5 failed: libxl: error: ... domain 5 not found"),
    (0, "(domain\n\t(domid 5)\n)\n", "",
     'xl list -l 5 did not print JSON (is output_format="sxp" set in /etc/xen/xl.conf?)'),
    (0, "[\n]\n", "",
     "xl list -l 5 printed no configuration of domain 5 (a domain xl or libxl did not create?)"),
    (0, XL_LIST.replace('"domid": 5', '"domid": 6'), "",
     "xl list -l 5 printed no configuration of domain 5 (a domain xl or libxl did not create?)"),
    (0, XL_LIST.replace('"name": "guest",', ""), "",
     "xl list -l 5: the configuration names no domain (no config.c_info.name)"),
])
def test_what_xl_list_cannot_tell_is_one_line(monkeypatch, returncode, stdout, stderr, message):
    fake_xl(monkeypatch, returncode, stdout, stderr)
    with pytest.raises(ToolstackError) as e:
        DomainConfig.from_running_domain(5)
    assert str(e.value) == message


def test_no_xl_is_one_line(monkeypatch):
    def xl(*args):
        raise FileNotFoundError(2, "No such file or directory", "xl")
    monkeypatch.setattr(domconfig, "xl", xl)
    with pytest.raises(ToolstackError, match="^xl list -l 5: cannot run xl: No such file"):
        DomainConfig.from_running_domain(5)


# libvirt's domain XML

def test_libvirt_xml_is_kept_as_libvirt_gave_it():
    xml = marked('dir="/var/lib/xenrr/traces"')
    config = DomainConfig.from_libvirt_xml(xml)
    assert (config.kind, config.name, config.text) == (ConfigKind.LIBVIRT_XML, "guest", xml)


@pytest.mark.parametrize("xml, message", [
    ("<domain><name>guest", "the libvirt domain XML does not parse: no element found: "
                            "line 1, column 19"),
    ("<network><name>default</name></network>",
     "not a libvirt domain XML (no <domain> with a <name>)"),
    (XML.replace("<name>guest</name>", ""), "not a libvirt domain XML (no <domain> with a <name>)"),
])
def test_what_is_not_a_libvirt_domain_xml_is_one_line(xml, message):
    with pytest.raises(ConfigError) as e:
        DomainConfig.from_libvirt_xml(xml)
    assert str(e.value) == message


# Into the trace

@pytest.mark.parametrize("source", ["xl", "xl_json", "libvirt"])
def test_the_trace_header_keeps_the_configuration_tagged_with_its_kind(
        tmp_path, cfg, monkeypatch, source):
    if source == "xl":
        config = DomainConfig.from_xl_file(cfg, ["memory=1024"])
    elif source == "xl_json":
        fake_xl(monkeypatch, stdout=XL_LIST)
        config = DomainConfig.from_running_domain(5)
    else:
        config = DomainConfig.from_libvirt_xml(XML)
    monkeypatch.setattr(session, "xen_version",
                        lambda privcmd: XenVersion(4, 17, ".5", "xenrr series 0123"))
    domain = domains.Domain(5, config.name, DomainInfo(5, 0, 1, 2, 0, 0))
    path = tmp_path / "t.xrr"
    with TraceWriter(path, header=session.trace_header(None, domain, config, 3)):
        pass
    with TraceReader(path) as reader:
        header = reader.header
    assert (header.config_kind, header.config) == (config.kind, config.text)
    assert {"xl": ConfigKind.XL, "xl_json": ConfigKind.XL_JSON,
            "libvirt": ConfigKind.LIBVIRT_XML}[source] == header.config_kind
    assert (header.name, header.vcpus, header.xen_version) == (
        "guest", 2, "4.17.5 (xenrr series 0123)")
    if source == "xl_json":
        assert json.loads(header.config)[0]["config"]["c_info"]["name"] == "guest"
