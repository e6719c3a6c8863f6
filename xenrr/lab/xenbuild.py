"""Build the patched hypervisor from Debian's pinned Xen source, cached by its inputs (srcbuild.py).

Layout under the cache (see paths.cache_dir):
  xen/src/<version>/    the extracted Debian source (Debian's patches applied),
                        committed once to a private git repository ("pristine")
  xen/work-<flavour>/   a git worktree per flavour (debug, release); each build
                        checks out pristine + our series as a commit, so git
                        rewrites only the files whose content changes and make
                        rebuilds incrementally
  xen/builds/<key>/     the outputs of one build (xen, xen-syms, config, build.json)
The key hashes the source version, the series file, every patch's content, the
Kconfig settings and the compiler, so any change in them means a new build and
an unchanged tree is found again in well under a second.
"""

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.paths import cache_dir
from xenrr.lab.srcbuild import BuildCache, Series, SourceTree, compiler_identity, say, tail
from xenrr.sourcetree import source_dir

SOURCE_PACKAGE = "xen"
SOURCE_VERSION = "4.17.5+72-g01140da4e8-1"
OUTPUTS = ("xen", "xen-syms", "xen.gz", ".config")
KEEP_BUILDS = 6

def hypervisor_series() -> Series:
    """hypervisor-patches/series."""
    return Series.load(source_dir() / "hypervisor-patches")


def kconfig(release: bool) -> dict[str, str]:
    """Our Kconfig settings on top of Debian's debian/xen-kconfig."""
    settings = {"CONFIG_SHADOW_PAGING": "y", "CONFIG_PV": "y", "CONFIG_HVM": "y",
                "CONFIG_XENRR": "y", "CONFIG_DEBUG": "n" if release else "y"}
    if not release:
        settings["CONFIG_PERF_COUNTERS"] = "y"
    return settings


@dataclass(frozen=True)
class BuildSpec:
    series: Series
    release: bool = False

    @property
    def flavour(self) -> str:
        return "release" if self.release else "debug"

    @property
    def key(self) -> str:
        inputs = {"source": SOURCE_VERSION, "series": self.series.digest,
                  "kconfig": kconfig(self.release), "compiler": compiler_identity()}
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


class XenTree(SourceTree):
    def __init__(self, root: Path):
        super().__init__(root, SOURCE_PACKAGE, SOURCE_VERSION)


def _configure(work: Path, release: bool, log) -> None:
    """Write xen/.config from Debian's settings plus ours, only when they changed."""
    settings = kconfig(release)
    wanted = (work / "debian" / "xen-kconfig").read_text()
    wanted = "".join(l + "\n" for l in wanted.splitlines()
                     if not any(l.startswith(k + "=") for k in settings))
    wanted += "".join(f"{k}={v}\n" for k, v in settings.items())
    stamp = work / ".xenrr-kconfig"
    config = work / "xen" / ".config"
    if config.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    config.write_text(wanted)
    _make(work, ["olddefconfig"], log)
    final = config.read_text()
    for k, v in settings.items():
        line = f"{k}={v}" if v != "n" else f"# {k} is not set"
        if line not in final.splitlines():
            raise LabError(f"Xen's Kconfig did not accept {k}={v}")
    stamp.write_text(wanted)


def _make(work: Path, targets: list[str], log, variables: dict[str, str] | None = None) -> None:
    argv = ["make", "-C", str(work / "xen"), f"-j{os.cpu_count() or 1}", *targets]
    argv += [f"{k}={v}" for k, v in (variables or {}).items()]
    log.write(f"$ {' '.join(argv)}\n".encode())
    log.flush()
    proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LabError(f"Xen build failed ({' '.join(targets) or 'all'}); "
                       f"see {log.name}:\n{tail(Path(log.name), 25)}")


class XenBuilds(BuildCache):
    """Find or produce the build for a spec; the entry point of `xenrr lab build`."""

    tools = (("make", "make"), ("flex", "flex"), ("bison", "bison"))

    def __init__(self, root: Path | None = None):
        super().__init__(root or cache_dir() / "xen", KEEP_BUILDS)

    def _build_locked(self, spec: BuildSpec) -> Path:
        tree = XenTree(self.root)
        tree.pristine()
        work = tree.worktree(spec.flavour)
        tree.apply_series(work, spec.series)
        log_path = self.root / f"work-{spec.flavour}.log"
        say(f"building Xen {SOURCE_VERSION} ({spec.flavour}, series {spec.series.digest}, "
            f"{len(spec.series.patches)} patches); log: {log_path}")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            _configure(work, spec.release, log)
            _make(work, [], log, {"XENRR_SERIES": spec.series.digest})
        elapsed = time.monotonic() - started
        out = self.publish(spec, {name.lstrip("."): work / "xen" / name for name in OUTPUTS
                                  if (work / "xen" / name).exists()}, {
            "source": SOURCE_VERSION, "series": spec.series.digest,
            "patches": [p.name for p in spec.series.patches], "flavour": spec.flavour,
            "kconfig": kconfig(spec.release), "compiler": compiler_identity(),
            "seconds": round(elapsed, 1)})
        say(f"built in {elapsed:.0f} s")
        return out
