"""dom0's boot image: the host kernel plus a small initramfs that mounts the host's root.

The initramfs holds only busybox, the modules needed to reach the root over
virtio-9p (LAB.md lists them) and dom0/init; everything else, the toolstack,
Python and xenrr itself, comes from the host's root. It is cached by its
content, so a warm boot does not rebuild it.
"""

import hashlib
import lzma
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.cpio import Cpio
from xenrr.lab.kernel import HostKernel

BUSYBOX = Path("/bin/busybox")
ROOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]
KERNEL_ARGS = "console=hvc0 earlyprintk=xen"


def lab_file(name: str) -> bytes:
    """A file shipped in xenrr/lab/dom0/ (the boot scripts)."""
    return resources.files("xenrr.lab").joinpath("dom0", name).read_bytes()


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix != ".ko":
        raise LabError(f"cannot load {path}: only .ko and .ko.xz modules are supported")
    return data


@dataclass(frozen=True)
class Dom0Image:
    kernel: HostKernel
    initramfs: Path

    @property
    def kernel_args(self) -> str:
        return KERNEL_ARGS


def dom0_image(cache: Path) -> Dom0Image:
    kernel = HostKernel.find()
    if not BUSYBOX.is_file():
        raise LabError(f"{BUSYBOX} not found: install the Debian package busybox-static")
    modules = kernel.module_files(ROOT_MODULES)
    init = lab_file("init")
    key = hashlib.sha256(init + BUSYBOX.read_bytes() + kernel.version.encode()
                         + "\0".join(map(str, modules)).encode()).hexdigest()[:16]
    out = cache / f"dom0-initramfs-{key}.cpio"
    if not out.exists():
        archive = Cpio()
        for d in ("bin", "dev", "proc", "sys", "modules"):
            archive.directory(d)
        archive.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        archive.file("init", init, 0o755)
        names = []
        for path in modules:
            name = path.name.removesuffix(".xz")
            archive.file(f"modules/{name}", _module_bytes(path))
            names.append(name)
        archive.file("modules/order", "".join(n + "\n" for n in names).encode())
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_bytes(archive.getvalue())
        tmp.rename(out)
    return Dom0Image(kernel, out)
