"""Marking a libvirt domain for recording: xenrr's metadata element, through libvirt-python.

The element goes into the domain's persistent definition
(VIR_DOMAIN_AFFECT_CONFIG): every start begins from it, a restart after a
reboot included, and the hook reads it from the definition being started.
A running domain keeps its current run as it is.
"""

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import libvirt

from xenrr.errors import LibvirtError
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.libvirt.metadata import NAMESPACE, PREFIX, element_xml

DEFAULT_URI = "xen:///system"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_ELEMENT = libvirt.VIR_DOMAIN_METADATA_ELEMENT


def _message(e: libvirt.libvirtError) -> str:
    return e.get_error_message() or str(e)


@contextlib.contextmanager
def connect(uri: str = DEFAULT_URI) -> Iterator[libvirt.virConnect]:
    # libvirt prints every error on stderr by default; xenrr says each one once.
    libvirt.registerErrorHandler(lambda *_: None, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as e:
        raise LibvirtError(f"cannot connect to {uri}: {_message(e)}") from None
    try:
        yield conn
    finally:
        conn.close()


def lookup(conn: libvirt.virConnect, spec: str) -> libvirt.virDomain:
    """The domain `spec` names: a name, else a UUID."""
    try:
        return conn.lookupByName(spec)
    except libvirt.libvirtError as e:
        if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise LibvirtError(f"{spec}: {_message(e)}") from None
    if _UUID.match(spec):
        with contextlib.suppress(libvirt.libvirtError):
            return conn.lookupByUUIDString(spec)
    raise NoSuchDomainError(f"libvirt knows no domain {spec!r}")


def current_mark(dom: libvirt.virDomain) -> str | None:
    """The element as libvirt keeps it in the persistent definition, or None."""
    try:
        return dom.metadata(_ELEMENT, NAMESPACE, _CONFIG)
    except libvirt.libvirtError as e:
        if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise LibvirtError(f"{dom.name()}: {_message(e)}") from None


def _set(dom: libvirt.virDomain, element: str | None) -> None:
    try:
        dom.setMetadata(_ELEMENT, element, PREFIX if element else None, NAMESPACE, _CONFIG)
    except libvirt.libvirtError as e:
        raise LibvirtError(f"{dom.name()}: {_message(e)}") from None


def mark(dom: libvirt.virDomain, directory: Path, strict: bool) -> None:
    _set(dom, element_xml(directory, strict))


def unmark(dom: libvirt.virDomain) -> bool:
    """Remove the mark; whether there was one."""
    if current_mark(dom) is None:
        return False
    _set(dom, None)
    return True
