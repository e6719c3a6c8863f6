"""The xenrr element in a libvirt domain's <metadata>: what is read, and every refusal."""

from pathlib import Path

import pytest

from xenrr.libvirt.metadata import (LibvirtDomain, MetadataError, RecordRequest, element_xml,
                                    parse_domain)
from tests.libvirt.sample import UUID, XML, marked


def test_an_unmarked_domain_has_no_request():
    assert parse_domain(XML) == LibvirtDomain("guest", UUID, None)


@pytest.mark.parametrize(("attributes", "request_"), [
    ('dir="/var/lib/xenrr/traces"', RecordRequest(Path("/var/lib/xenrr/traces"), False)),
    ('dir="/t" strict="no"', RecordRequest(Path("/t"), False)),
    ('dir="/t" strict="yes"', RecordRequest(Path("/t"), True)),
])
def test_the_request_is_read(attributes, request_):
    assert parse_domain(marked(attributes)).request == request_


def test_the_element_mark_writes_reads_back_as_libvirt_stores_it():
    # libvirt keeps the element with the prefix and namespace it was given.
    element = element_xml(Path('/srv/a "b" & <c>'), strict=True)
    assert element == """<record dir='/srv/a "b" &amp; &lt;c&gt;' strict="yes"/>"""
    stored = element.replace("<record ", '<xenrr:record xmlns:xenrr="urn:xenrr:record:1" ')
    xml = XML.replace("</uuid>\n", f"</uuid>\n  <metadata>{stored}</metadata>\n")
    assert parse_domain(xml).request == RecordRequest(Path('/srv/a "b" & <c>'), True)


def test_an_element_of_another_namespace_is_not_ours():
    xml = XML.replace("</uuid>\n", '</uuid>\n  <metadata><x:record xmlns:x="urn:other" '
                                   'dir="rel"/></metadata>\n')
    assert parse_domain(xml).request is None


def error(xml: str) -> tuple[str, bool]:
    with pytest.raises(MetadataError) as e:
        parse_domain(xml)
    return str(e.value), e.value.strict


@pytest.mark.parametrize(("attributes", "message", "strict"), [
    ('', "<xenrr:record> has no dir attribute", False),
    ('strict="yes"', "<xenrr:record> has no dir attribute", True),
    ('dir=""', "<xenrr:record>: the trace directory is empty", False),
    ('dir="t" strict="yes"', "<xenrr:record>: the trace directory 't' is not an absolute path "
                             "(libvirtd runs the hook from /)", True),
    ('dir="/t" strict="on"', "<xenrr:record> strict='on': expected 'yes' or 'no'", False),
    ('dir="/t" stritc="yes"', "<xenrr:record> has an unknown attribute 'stritc' "
                              "(did you mean 'strict'?)", False),
    ('dir="/t" color="red"', "<xenrr:record> has an unknown attribute 'color'", False),
])
def test_a_malformed_element_is_one_message(attributes, message, strict):
    assert error(marked(attributes)) == (message, strict)


def test_two_elements_are_refused():
    xml = marked('dir="/a"', marked('dir="/b" strict="yes"'))
    assert error(xml) == ("2 <xenrr:record> elements: expected one", True)


def test_an_unknown_element_in_our_namespace_is_refused():
    xml = XML.replace("</uuid>\n", '</uuid>\n  <metadata><xenrr:recrod xmlns:xenrr='
                                   '"urn:xenrr:record:1" dir="/t"/></metadata>\n')
    assert error(xml) == ("unknown element <xenrr:recrod> in xenrr's namespace "
                          "(expected <xenrr:record>)", False)


@pytest.mark.parametrize("text", ["", "<domain>", "<network><name>n</name></network>",
                                  "<domain><name>guest</name></domain>"])
def test_what_is_not_a_domain_xml_is_one_message(text):
    message, strict = error(text)
    assert "\n" not in message and not strict
