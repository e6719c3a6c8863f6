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

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.paths import cache_dir
from xenrr.lab.srcbuild import BuildCache, Series, SourceTree, compiler_identity, say, tail

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


class QemuTree(SourceTree):
    def __init__(self, root: Path):
        super().__init__(root, SOURCE_PACKAGE, SOURCE_VERSION)


def _run_logged(argv: list[str], log, what: str, cwd: Path | None = None) -> None:
    log.write(f"$ {' '.join(argv)}\n".encode())
    log.flush()
    proc = subprocess.run(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LabError(f"QEMU {what} failed; see {log.name}:\n{tail(Path(log.name), 25)}")


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


class QemuBuilds(BuildCache):
    """Find or produce the lab's QEMU for a spec; `xenrr lab build` builds it."""

    tools = BUILD_TOOLS

    def __init__(self, root: Path | None = None):
        super().__init__(root or cache_dir() / "qemu", KEEP_BUILDS)

    def _build_locked(self, spec: QemuSpec) -> Path:
        tree = QemuTree(self.root)
        tree.pristine()
        work = tree.worktree(FLAVOUR)
        tree.apply_series(work, spec.series)
        build = self.root / f"build-{FLAVOUR}"
        log_path = self.root / f"build-{FLAVOUR}.log"
        say(f"building QEMU {SOURCE_VERSION} (x86_64-softmmu, series {spec.series.digest}, "
            f"{len(spec.series.patches)} patches); log: {log_path}")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            _configure(work, build, log)
            _run_logged(["ninja", "-C", str(build), f"-j{os.cpu_count() or 1}", BINARY],
                        log, "build")
        elapsed = time.monotonic() - started
        out = self.publish(spec, {BINARY: build / BINARY}, {
            "source": SOURCE_VERSION, "series": spec.series.digest,
            "patches": [p.name for p in spec.series.patches], "configure": list(CONFIGURE),
            "compiler": compiler_identity(), "seconds": round(elapsed, 1)})
        say(f"built QEMU in {elapsed:.0f} s")
        return out


def built_qemu() -> Path:
    """The lab's QEMU for the tree's patch series, or an error saying how to build it."""
    spec = QemuSpec.current()
    found = QemuBuilds().find(spec)
    if found is None:
        raise LabError(f"no lab QEMU built for this patch series ({spec.series.digest}): "
                       "run `xenrr lab build` first")
    return found / BINARY
