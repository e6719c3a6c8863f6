"""Debian's own hypervisor package, booted by the lab for comparison.

xen-hypervisor-4.17-amd64 is built without shadow paging and knows nothing
of xenrr; booting it shows what xenrr does on a machine that was never
patched. It is fetched with `apt-get download` through the system's own
apt configuration (read, never changed) and unpacked into the cache.
"""

import gzip
import subprocess
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.tools import require

PACKAGE = "xen-hypervisor-4.17-amd64"
IMAGE = "boot/xen-4.17-amd64.gz"


def stock_hypervisor(cache: Path) -> Path:
    """The stock hypervisor's multiboot ELF, downloaded and unpacked once."""
    directory = cache / "stock-xen"
    directory.mkdir(parents=True, exist_ok=True)
    debs = sorted(directory.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        require("apt-get", "apt")
        proc = subprocess.run(["apt-get", "-o", "APT::Sandbox::User=root", "download", PACKAGE],
                              cwd=directory, capture_output=True, text=True)
        debs = sorted(directory.glob(f"{PACKAGE}_*.deb"))
        if proc.returncode != 0 or not debs:
            raise LabError(f"cannot download {PACKAGE}: "
                           f"{(proc.stderr.strip() or 'no package').splitlines()[-1]} "
                           "(run `apt-get update` first?)")
    deb = debs[-1]
    out = directory / deb.stem / "xen"
    if not out.exists():
        unpacked = directory / deb.stem
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
        out.write_bytes(gzip.decompress((unpacked / IMAGE).read_bytes()))
    return out
