"""The host's Debian kernel, used as dom0's kernel and as the lab domU's kernel."""

import lzma
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.tools import require

XZ_MAGIC = b"\xfd7zXZ\x00"


def _version_key(version: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.-]", version)]


@dataclass(frozen=True)
class HostKernel:
    version: str
    vmlinuz: Path
    modules: Path

    @classmethod
    def find(cls, boot: Path = Path("/boot"), lib: Path = Path("/lib/modules")) -> "HostKernel":
        """The newest Debian amd64 kernel that has its modules installed."""
        candidates = []
        for vmlinuz in boot.glob("vmlinuz-*-amd64"):
            version = vmlinuz.name.removeprefix("vmlinuz-")
            if (lib / version / "modules.dep").is_file():
                candidates.append(cls(version, vmlinuz, lib / version))
        if not candidates:
            raise LabError(f"no Debian kernel with modules in {boot}: install the Debian "
                           "package linux-image-amd64 (`make deps` installs it)")
        return max(candidates, key=lambda k: _version_key(k.version))

    def module_files(self, names: list[str]) -> list[Path]:
        """Module files for `names` and their dependencies, in loading order."""
        require("modprobe", "kmod")
        files: list[Path] = []
        for name in names:
            proc = subprocess.run(["modprobe", "-S", self.version, "--show-depends", name],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise LabError(f"kernel {self.version} has no module {name}: "
                               f"{proc.stderr.strip()}")
            for line in proc.stdout.splitlines():
                words = line.split()
                if words[:1] == ["insmod"] and Path(words[1]) not in files:
                    files.append(Path(words[1]))
        return files

    def vmlinux(self, cache: Path) -> Path:
        """The uncompressed kernel: libxenguest unpacks an xz bzImage slowly under TCG."""
        out = cache / f"vmlinux-{self.version}"
        if out.exists() and out.stat().st_mtime >= self.vmlinuz.stat().st_mtime:
            return out
        data = self.vmlinuz.read_bytes()
        start = data.find(XZ_MAGIC)
        if start < 0:
            raise LabError(f"{self.vmlinuz} is not an xz-compressed bzImage; "
                           "cannot extract vmlinux")
        try:
            elf = lzma.LZMADecompressor().decompress(data[start:])
        except lzma.LZMAError as e:
            raise LabError(f"cannot decompress the kernel in {self.vmlinuz}: {e}") from None
        if not elf.startswith(b"\x7fELF"):
            raise LabError(f"the xz payload of {self.vmlinuz} is not an ELF kernel")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_bytes(elf)
        tmp.rename(out)
        return out
