"""The configuration of a domain under record/replay: loaded once, kept as one value.

A recorded domain's configuration reaches xenrr in one of three forms, and
the trace keeps it in that form, tagged with which it is (trace_header's
config_kind and config, docs/specs/trace-format.md), so that replay can
build the same domain again:

    ConfigKind.XL           `xenrr record -c CFG [KEY=VALUE...]`: the file's text,
                            with the overrides appended as `xl create` appends them
                            (xenrr/xlcfg/overrides.py): xl builds the same domain from it
    ConfigKind.XL_JSON      `xenrr record DOMAIN`: what `xl list -l DOMID` prints of
                            the running domain (libxl's domain configuration, JSON)
    ConfigKind.LIBVIRT_XML  the libvirt hook's recorder: the domain XML libvirt
                            hands its hooks

An xl file is read and parsed once, here; its name and every other setting
come from that one parse (DomainConfig.xl).
"""

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xenrr.domains import xl
from xenrr.errors import ConfigError, ToolstackError, UsageError
from xenrr.formats.enums import ConfigKind
from xenrr.xlcfg import XlConfig, parse_with_overrides, with_overrides
from xenrr.xlcfg.loader import read


@dataclass(frozen=True)
class DomainConfig:
    """A domain's configuration in the form it came in; `text` is what a trace stores."""

    kind: ConfigKind
    source: str                         # the text as read: the file's, xl's output, the XML
    name: str                           # the domain's name, as the configuration gives it
    path: Path | None = None            # XL: the file
    overrides: tuple[str, ...] = ()     # XL: xl create's KEY=VALUE arguments, in order
    xl: XlConfig | None = field(default=None, compare=False, repr=False)  # XL: the parse

    @property
    def text(self) -> str:
        """What the trace header's config holds: for XL, the text xl parses."""
        if self.kind == ConfigKind.XL:
            return with_overrides(self.source, self.overrides)
        return self.source

    @classmethod
    def from_xl_file(cls, path: str | os.PathLike[str],
                     overrides: Sequence[str] = ()) -> "DomainConfig":
        """An xl configuration file and xl create's KEY=VALUE overrides, read as xl reads them."""
        where = os.fspath(path)
        source = read(path)
        overrides = tuple(overrides)
        parsed = parse_with_overrides(source, overrides, where)
        _check_utf8(where, source, overrides)
        name = parsed.get("name")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{where}: no name = \"...\" setting")
        return cls(ConfigKind.XL, source, name, Path(path), overrides, parsed)

    @classmethod
    def from_running_domain(cls, domid: int) -> "DomainConfig":
        """What xl knows of a running domain's configuration: `xl list -l DOMID` (JSON)."""
        command = f"xl list -l {domid}"
        try:
            proc = xl("list", "-l", str(domid))
        except OSError as e:
            raise ToolstackError(f"{command}: cannot run xl: {e.strerror or e}") from None
        if proc.returncode != 0:
            said = (proc.stderr or proc.stdout).strip().splitlines()
            raise ToolstackError(f"{command} failed: {said[-1] if said else 'no message'}")
        try:
            listed = json.loads(proc.stdout)
        except ValueError:
            raise ToolstackError(f"{command} did not print JSON (is output_format=\"sxp\" "
                                 "set in /etc/xen/xl.conf?)") from None
        entry = listed[0] if isinstance(listed, list) and len(listed) == 1 else None
        if not isinstance(entry, dict) or entry.get("domid") != domid:
            raise ToolstackError(f"{command} printed no configuration of domain {domid} "
                                 "(a domain xl or libxl did not create?)")
        name = (entry.get("config") or {}).get("c_info", {}).get("name")
        if not isinstance(name, str) or not name:
            raise ToolstackError(f"{command}: the configuration names no domain "
                                 "(no config.c_info.name)")
        return cls(ConfigKind.XL_JSON, proc.stdout, name)

    @classmethod
    def from_libvirt_xml(cls, xml: str) -> "DomainConfig":
        """A libvirt domain XML, as libvirt gives its hooks."""
        try:
            root = ET.fromstring(xml)
        except ET.ParseError as e:
            raise ConfigError(f"the libvirt domain XML does not parse: {e}") from None
        name = root.findtext("name")
        if root.tag != "domain" or not name:
            raise ConfigError("not a libvirt domain XML (no <domain> with a <name>)")
        return cls(ConfigKind.LIBVIRT_XML, xml, name)


def _shown(text: str) -> str:
    """text with the bytes that are not UTF-8 written as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _check_utf8(where: str, source: str, overrides: tuple[str, ...]) -> None:
    """Refuse bytes that are not UTF-8: xl takes them, but a trace stores UTF-8 text."""
    for text, override in ((source, None), *((o, o) for o in overrides)):
        bad = next((i for i, c in enumerate(text) if "\udc80" <= c <= "\udcff"), None)
        if bad is None:
            continue
        at = (f"{where}:{text.count(chr(10), 0, bad) + 1}" if override is None
              else f"{where}: the override '{_shown(override)}'")
        raise ConfigError(f"{at}: byte {ord(text[bad]) - 0xDC00:#04x} is not UTF-8, and a "
                          "trace keeps the domain's configuration as UTF-8 text")
