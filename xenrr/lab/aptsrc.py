"""Fetch a Debian source package without touching the system's apt configuration.

The machines have only `Types: deb` entries. We derive a private deb-src list
from the system's own sources (same URIs, suites, components and keys), keep it
and its package lists under the cache, and point apt at them with -o options.
No mirror host name is ever written outside the cache.
"""

import re
import subprocess
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.tools import require

SYSTEM_SOURCES = Path("/etc/apt")

# One-line option names (sources.list(5)) and their deb822 field names.
_OPTION_FIELDS = {
    "arch": "Architectures", "lang": "Languages", "target": "Targets",
    "pdiffs": "PDiffs", "by-hash": "By-Hash", "trusted": "Trusted",
    "signed-by": "Signed-By", "check-valid-until": "Check-Valid-Until",
    "allow-insecure": "Allow-Insecure", "allow-weak": "Allow-Weak",
    "allow-downgrade-to-insecure": "Allow-Downgrade-To-Insecure",
}


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas, fields, key = [], {}, None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                stanzas.append(fields)
            fields, key = {}, None
        elif line[0] in " \t" and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    return stanzas


def _one_line_stanzas(text: str) -> list[dict[str, str]]:
    stanzas = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        kind, options, uri, suite, components = m.groups()
        fields = {"Types": kind, "URIs": uri, "Suites": suite}
        if components:
            fields["Components"] = components
        for option in (options or "").split():
            name, _, value = option.partition("=")
            fields[_OPTION_FIELDS.get(name, name.title())] = value
        stanzas.append(fields)
    return stanzas


def derive_source_list(etc_apt: Path = SYSTEM_SOURCES) -> str:
    """deb822 text with a deb-src stanza for every enabled deb entry of the system."""
    stanzas = []
    for path in sorted((etc_apt / "sources.list.d").glob("*.sources")):
        stanzas += _deb822_stanzas(path.read_text())
    for path in [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*.list"))]:
        if path.is_file():
            stanzas += _one_line_stanzas(path.read_text())
    out = []
    for fields in stanzas:
        if "deb" not in fields.get("Types", "").split():
            continue
        if fields.get("Enabled", "yes").lower() == "no":
            continue
        fields = dict(fields, Types="deb-src")
        out.append("\n".join(f"{k}: {v}" for k, v in fields.items()))
    if not out:
        raise LabError(f"no enabled 'deb' entries in {etc_apt}/sources.list(.d): "
                       "cannot derive where to fetch Debian sources from")
    return "\n\n".join(out) + "\n"


class PrivateApt:
    """apt-get and apt-cache run against a private deb-src list under `root`."""

    def __init__(self, root: Path, etc_apt: Path = SYSTEM_SOURCES):
        self.root = root
        self.etc_apt = etc_apt
        self.sources = root / "deb-src.sources"
        self.lists = root / "lists"
        self.cache = root / "cache"

    def options(self) -> list[str]:
        return ["-o", f"Dir::Etc::SourceList={self.sources}",
                "-o", "Dir::Etc::SourceParts=-",
                "-o", f"Dir::State::Lists={self.lists}",
                "-o", f"Dir::Cache={self.cache}",
                "-o", "APT::Sandbox::User=root",
                "-o", "DPkg::Lock::Timeout=900"]

    def _run(self, argv: list[str], cwd: Path | None = None) -> str:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
            raise LabError(f"{' '.join(argv[:2])} failed: " + " / ".join(tail))
        return proc.stdout

    def update(self) -> None:
        """Write the derived list (only if it changed) and refresh the private lists."""
        for d in (self.lists / "partial", self.cache / "archives" / "partial"):
            d.mkdir(parents=True, exist_ok=True)
        text = derive_source_list(self.etc_apt)
        if not self.sources.exists() or self.sources.read_text() != text:
            self.sources.write_text(text)
        self._run(["apt-get", *self.options(), "-q", "update"])

    def has_source(self, package: str, version: str) -> bool:
        proc = subprocess.run(["apt-cache", *self.options(), "showsrc", package],
                              capture_output=True, text=True)
        return f"\nVersion: {version}\n" in "\n" + proc.stdout

    def download_source(self, package: str, version: str, dest: Path) -> Path:
        """Download (not extract) package=version into dest; returns the .dsc path."""
        require("apt-get", "apt")
        if not self.has_source(package, version):
            self.update()
            if not self.has_source(package, version):
                raise LabError(f"source package {package}={version} is not offered by "
                               "the system's apt sources (as deb-src)")
        dest.mkdir(parents=True, exist_ok=True)
        self._run(["apt-get", *self.options(), "-q", "source", "--download-only",
                   f"{package}={version}"], cwd=dest)
        dsc = dest / f"{package}_{version.split(':')[-1]}.dsc"
        if not dsc.exists():
            raise LabError(f"apt-get source did not produce {dsc.name}")
        return dsc
