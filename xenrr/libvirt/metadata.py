"""The mark a libvirt domain carries when xenrr is to record it, and reading it back.

A marked domain's XML holds, in its <metadata>, one element in xenrr's
namespace (libvirt keeps one element per namespace; `xenrr libvirt mark`
sets it through virDomainSetMetadata):

    <xenrr:record xmlns:xenrr="urn:xenrr:record:1" dir="/var/lib/xenrr/traces" strict="yes"/>

dir (required, absolute): where each start's trace goes. strict (optional,
"yes" or "no", libvirt's spelling of booleans; default no): a start that
cannot be recorded from its first instruction is refused instead of
running unrecorded. The namespace is a URN: it names the element's
version (1) without claiming a web address xenrr does not have.
"""

import difflib
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import UsageError

NAMESPACE = "urn:xenrr:record:1"
PREFIX = "xenrr"          # the prefix libvirt writes the element with
ELEMENT = "record"
ATTRIBUTES = ("dir", "strict")
DEFAULT_DIR = Path("/var/lib/xenrr/traces")


class MetadataError(UsageError):
    """The domain's xenrr element is malformed; strict tells whether it asked for strict mode."""

    def __init__(self, message: str, strict: bool = False):
        super().__init__(message)
        self.strict = strict


@dataclass(frozen=True)
class RecordRequest:
    dir: Path
    strict: bool


@dataclass(frozen=True)
class LibvirtDomain:
    """What the hook needs of the domain XML libvirt gives it."""

    name: str
    uuid: str
    request: RecordRequest | None   # None: not marked


def element_xml(directory: Path, strict: bool) -> str:
    """The element as virDomainSetMetadata takes it (libvirt adds the namespace)."""
    return f"<{ELEMENT} dir={quoteattr(str(directory))}" + (' strict="yes"' if strict else "") + "/>"


def check_directory_value(value: str) -> Path:
    if not value:
        raise UsageError("the trace directory is empty")
    if not value.startswith("/"):
        raise UsageError(f"the trace directory {value!r} is not an absolute path "
                         "(libvirtd runs the hook from /)")
    return Path(value)


def _request(element: ET.Element) -> RecordRequest:
    strict_value = element.get("strict", "no")
    strict = strict_value == "yes"
    where = f"<{PREFIX}:{ELEMENT}>"
    for name in element.keys():
        if name not in ATTRIBUTES:
            shown = name.split("}")[-1]
            close = difflib.get_close_matches(shown, ATTRIBUTES, n=1, cutoff=0.6)
            advice = f" (did you mean '{close[0]}'?)" if close else ""
            raise MetadataError(f"{where} has an unknown attribute '{shown}'{advice}", strict)
    if strict_value not in ("yes", "no"):
        raise MetadataError(f"{where} strict={strict_value!r}: expected 'yes' or 'no'")
    if "dir" not in element.keys():
        raise MetadataError(f"{where} has no dir attribute", strict)
    try:
        directory = check_directory_value(element.get("dir"))
    except UsageError as e:
        raise MetadataError(f"{where}: {e}", strict) from None
    return RecordRequest(directory, strict)


def parse_domain(text: str) -> LibvirtDomain:
    """The domain's name, uuid and xenrr request, from its libvirt XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise MetadataError(f"the domain XML does not parse: {e}") from None
    name, uuid = root.findtext("name"), root.findtext("uuid")
    if root.tag != "domain" or not name or not uuid:
        raise MetadataError("not a libvirt domain XML (no <domain> with <name> and <uuid>)")
    ours = [e for e in root.findall("metadata/*") if e.tag.startswith(f"{{{NAMESPACE}}}")]
    records = [e for e in ours if e.tag == f"{{{NAMESPACE}}}{ELEMENT}"]
    strict = any(e.get("strict") == "yes" for e in records)
    for other in ours:
        if other.tag != f"{{{NAMESPACE}}}{ELEMENT}":
            local = other.tag.split("}")[1]
            raise MetadataError(f"unknown element <{PREFIX}:{local}> in xenrr's namespace "
                                f"(expected <{PREFIX}:{ELEMENT}>)", strict)
    if len(records) > 1:
        raise MetadataError(f"{len(records)} <{PREFIX}:{ELEMENT}> elements: expected one", strict)
    return LibvirtDomain(name, uuid.lower(), _request(records[0]) if records else None)
