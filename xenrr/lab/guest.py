"""The lab's Linux PV domU: the host kernel, a busybox initramfs and its workloads.

race (unsynchronised increments; the outcome varies from run to run) and
locked (the same under a spinlock; checks its own result) are the programs
later stages record and replay; getpid (system calls on one vCPU) witnesses
the position clock. They are compiled statically on the host, so
the guest needs nothing but busybox. Built artefacts live in the cache, keyed
by their inputs; the xl config names them by absolute path, which dom0 sees
unchanged because its root is the host's.
"""

import hashlib
import subprocess
from importlib import resources
from pathlib import Path

from xenrr.errors import LabError, UsageError
from xenrr.lab.cpio import Cpio
from xenrr.lab.dom0image import BUSYBOX
from xenrr.lab.kernel import HostKernel
from xenrr.lab.paths import cache_dir
from xenrr.lab.tools import require
from xenrr.lab.srcbuild import compiler_identity

WORKLOADS = ("race", "locked", "getpid")
CFLAGS = ["-O2", "-static", "-pthread", "-Wall", "-Wextra", "-Werror"]
NAME = "xenrr-guest"


def _source(name: str) -> bytes:
    return resources.files("xenrr.lab").joinpath("guest", name).read_bytes()


def _compile(name: str, out: Path) -> None:
    gcc = require("gcc", "gcc")
    src_dir = Path(str(resources.files("xenrr.lab").joinpath("guest")))
    proc = subprocess.run([gcc, *CFLAGS, "-o", str(out), str(src_dir / f"{name}.c")],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise LabError(f"cannot compile the {name} workload: {proc.stderr.strip()[-400:]} "
                       "(static linking needs the Debian package libc6-dev)")


def initramfs(cache: Path) -> Path:
    """The domU's initramfs: busybox, /init and the statically linked workloads."""
    if not BUSYBOX.is_file():
        raise LabError(f"{BUSYBOX} not found: install the Debian package busybox-static")
    sources = ["init", "harness.h"] + [f"{w}.c" for w in WORKLOADS]
    h = hashlib.sha256(compiler_identity().encode() + " ".join(CFLAGS).encode())
    for name in sources:
        h.update(name.encode() + b"\0" + _source(name))
    out = cache / f"initramfs-{h.hexdigest()[:16]}.cpio"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    archive = Cpio()
    for d in ("dev", "proc", "sys", "tmp"):
        archive.directory(d)
    archive.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    archive.file("init", _source("init"), 0o755)
    for w in WORKLOADS:
        binary = cache / f"{w}.tmp"
        _compile(w, binary)
        archive.file(f"bin/{w}", binary.read_bytes(), 0o755)
        binary.unlink()
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(archive.getvalue())
    tmp.rename(out)
    return out


def linux_guest(workloads: list[str] | None = None, iterations: int = 200000,
                vcpus: int = 2, memory: int = 256) -> Path:
    """Build the guest if needed and write its xl config; returns the config's path.

    Without workloads, the guest runs race and locked.
    """
    workloads = workloads or ["race", "locked"]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise UsageError(f"unknown workload {unknown[0]!r}: choose from {', '.join(WORKLOADS)}")
    if iterations <= 0 or not 1 <= vcpus <= 8:
        raise UsageError("iterations must be positive and vcpus between 1 and 8")
    cache = cache_dir() / "guest"
    kernel = HostKernel.find().vmlinux(cache)
    ramdisk = initramfs(cache)
    cfg = cache / f"{NAME}-{'-'.join(workloads)}-{iterations}-{vcpus}v.cfg"
    cfg.write_text(
        f'# Written by `xenrr lab guest`: the lab\'s {vcpus}-vCPU PV Linux domU.\n'
        f'name = "{NAME}"\n'
        f'type = "pv"\n'
        f'kernel = "{kernel}"\n'
        f'ramdisk = "{ramdisk}"\n'
        f'extra = "console=hvc0 quiet xenrr.workloads={",".join(workloads)} '
        f'xenrr.iterations={iterations}"\n'
        f'memory = {memory}\n'
        f'vcpus = {vcpus}\n'
        f'on_poweroff = "destroy"\n'
        f'on_reboot = "destroy"\n'
        f'on_crash = "destroy"\n')
    return cfg


def results(console: str) -> dict[str, dict[str, str]]:
    """The workloads' result lines (`xenrr-guest: NAME key=value ... [ok|FAILED]`) by NAME.

    A bare word after the key=value pairs (locked's self-check verdict) is
    kept as "verdict"; "done" holds the guest's overall status.
    """
    found = {}
    for line in console.replace("\r", "").splitlines():
        words = line.split()
        if words[:1] != ["xenrr-guest:"] or len(words) < 3:
            continue
        name, rest = words[1], words[2:]
        if name == "done":
            found["done"] = {"verdict": rest[0]}
        elif name in WORKLOADS:
            entry = dict(w.split("=", 1) for w in rest if "=" in w)
            entry.update(("verdict", w) for w in rest if "=" not in w)
            found[name] = entry
    return found
