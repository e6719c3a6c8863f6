"""Build the lab's QEMU from Debian's qemu source with xenrr's patches, cached by its inputs.

The lab's CPU needs a branch counter that Debian's QEMU (TCG) lacks; the
patches in xenrr/lab/qemu-patches/ add it (docs/lab-pmu.md). Only
qemu-system-x86_64 is built, configured for what the lab uses and no more,
so that a fresh machine pays a few minutes for it.

Layout under the cache (see paths.cache_dir):
  qemu/src/<version>/   the extracted Debian source (Debian's patches applied),
                        committed once to a private git repository ("pristine")
  qemu/work-lab/        the git worktree: pristine + the series as a commit, so
                        that git rewrites only the files whose content changes
  qemu/build-lab/       the out-of-tree meson/ninja build, kept for
                        incremental rebuilds
  qemu/builds/<key>/    qemu-system-x86_64 and build.json
The key hashes the source version, the series file, every patch's content,
the configure options and the compiler.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.aptsrc import PrivateApt
from xenrr.lab.paths import cache_dir
from xenrr.lab.tools import require
from xenrr.lab.xenbuild import Series, XenTree, _git, compiler_identity

SOURCE_PACKAGE = "qemu"
SOURCE_VERSION = "1:7.2+dfsg-7+deb12u18"    # bookworm's, as the qemu-system-x86 package
PATCHES = Path(__file__).resolve().with_name("qemu-patches")
BINARY = "qemu-system-x86_64"
FLAVOUR = "lab"
KEEP_BUILDS = 3

# Debian's own firmware path (debian/rules): the BIOS and option ROMs of the
# system's seabios and qemu-system-data packages, which the system QEMU uses.
FIRMWARE_PATH = "/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu"

# What the lab uses (q35, multi-threaded TCG, virtio-9p, isa-debug-exit, a
# serial port to a file) and nothing else: no optional library, no other
# device, target, tool or documentation, no debug information.
CONFIGURE = (
    "--target-list=x86_64-softmmu",
    "--without-default-features",       # every optional library off, then:
    "--enable-virtfs", "--enable-attr", "--enable-cap-ng",     # virtio-9p (-virtfs)
    "--enable-fdt=system",              # x86_64-softmmu will not build without libfdt
    "--without-default-devices",
    "--with-devices-x86_64=xenrr-lab",  # the device set of patch 0001
    "--disable-docs",
    "--disable-debug-info",
    "--disable-install-blobs",
    f"--firmwarepath={FIRMWARE_PATH}",
)

# Debian packages the build needs beyond the lab's own (scripts/install-debian-packages).
BUILD_TOOLS = (("ninja", "ninja-build"), ("meson", "meson"), ("pkg-config", "pkg-config"))


@dataclass(frozen=True)
class QemuSpec:
    series: Series

    @property
    def key(self) -> str:
        inputs = {"source": SOURCE_VERSION, "series": self.series.digest,
                  "configure": list(CONFIGURE), "compiler": compiler_identity()}
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]

    @classmethod
    def current(cls) -> "QemuSpec":
        """The spec of the tree's patch series."""
        return cls(Series.load(PATCHES))


def _say(msg: str) -> None:
    print(f"xenrr: {msg}", file=sys.stderr, flush=True)


class QemuTree(XenTree):
    """The pristine qemu source and its worktree (XenTree's scheme, another package)."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.src = root / "src" / SOURCE_VERSION

    def pristine(self) -> Path:
        """Fetch and extract the source once, and commit it as `pristine`."""
        if (self.src / ".git").is_dir() and _git(self.src, "rev-parse", "-q", "--verify",
                                                 "refs/tags/pristine", check=False).returncode == 0:
            return self.src
        require("dpkg-source", "dpkg-dev")
        require("git", "git")
        _say(f"fetching Debian's qemu {SOURCE_VERSION} source")
        dsc = PrivateApt(self.root / "apt").download_source(SOURCE_PACKAGE, SOURCE_VERSION,
                                                             self.root / "downloads")
        tmp = self.src.with_name(self.src.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["dpkg-source", "--no-check", "--no-copy", "-x", str(dsc), str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise LabError(f"dpkg-source -x {dsc.name} failed: {proc.stderr.strip()[-300:]}")
        _git(tmp, "init", "-q")
        _git(tmp, "add", "-A", "-f", ".")
        _git(tmp, "commit", "-q", "-m", f"Debian qemu {SOURCE_VERSION} (patches applied)")
        _git(tmp, "tag", "pristine")
        shutil.rmtree(self.src, ignore_errors=True)
        tmp.rename(self.src)
        return self.src


def _run_logged(argv: list[str], log, what: str, cwd: Path | None = None) -> None:
    log.write(f"$ {' '.join(argv)}\n".encode())
    log.flush()
    proc = subprocess.run(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        lines = Path(log.name).read_text(errors="replace").splitlines()[-25:]
        raise LabError(f"QEMU {what} failed; see {log.name}:\n" + "\n".join(lines))


def _configure(work: Path, build: Path, log) -> None:
    """Configure the build directory afresh when the options changed; ninja does the rest."""
    stamp = build / ".xenrr-configure"
    wanted = "\n".join(CONFIGURE) + "\n"
    if (build / "build.ninja").exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    _run_logged([str(work / "configure"), *CONFIGURE], log, "configure", cwd=build)
    stamp.write_text(wanted)


class QemuBuilds:
    """Find or produce the lab's QEMU for a spec; `xenrr lab build` builds it."""

    def __init__(self, root: Path | None = None):
        self.root = root or cache_dir() / "qemu"

    def path(self, spec: QemuSpec) -> Path:
        return self.root / "builds" / spec.key

    def find(self, spec: QemuSpec) -> Path | None:
        out = self.path(spec)
        return out if (out / "build.json").is_file() else None

    def build(self, spec: QemuSpec) -> Path:
        """The directory holding the build's binary; builds only on a cache miss."""
        found = self.find(spec)
        if found:
            os.utime(found)  # most recently used builds survive pruning
            return found
        for tool, package in BUILD_TOOLS:
            require(tool, package)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self.find(spec) or self._build_locked(spec)

    def _build_locked(self, spec: QemuSpec) -> Path:
        tree = QemuTree(self.root)
        tree.pristine()
        work = tree.worktree(FLAVOUR)
        tree.apply_series(work, spec.series)
        build = self.root / f"build-{FLAVOUR}"
        log_path = self.root / f"build-{FLAVOUR}.log"
        _say(f"building QEMU {SOURCE_VERSION} (x86_64-softmmu, series {spec.series.digest}, "
             f"{len(spec.series.patches)} patches); log: {log_path}")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            _configure(work, build, log)
            _run_logged(["ninja", "-C", str(build), f"-j{os.cpu_count() or 1}", BINARY],
                        log, "build")
        out = self.path(spec)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        shutil.copy2(build / BINARY, tmp / BINARY)
        elapsed = time.monotonic() - started
        (tmp / "build.json").write_text(json.dumps({
            "source": SOURCE_VERSION, "series": spec.series.digest,
            "patches": [p.name for p in spec.series.patches], "configure": list(CONFIGURE),
            "compiler": compiler_identity(), "seconds": round(elapsed, 1)}, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        _say(f"built QEMU in {elapsed:.0f} s")
        self._prune()
        return out

    def _prune(self) -> None:
        builds = sorted((p for p in (self.root / "builds").iterdir() if p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in builds[KEEP_BUILDS:]:
            shutil.rmtree(old, ignore_errors=True)


def built_qemu() -> Path:
    """The lab's QEMU for the tree's patch series, or an error saying how to build it."""
    spec = QemuSpec.current()
    found = QemuBuilds().find(spec)
    if found is None:
        raise LabError(f"no lab QEMU built for this patch series ({spec.series.digest}): "
                       "run `xenrr lab build` first")
    return found / BINARY
