"""Build the patched hypervisor from Debian's pinned Xen source, cached by its inputs.

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

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.aptsrc import PrivateApt
from xenrr.lab.paths import cache_dir
from xenrr.sourcetree import source_dir
from xenrr.lab.tools import require

SOURCE_PACKAGE = "xen"
SOURCE_VERSION = "4.17.5+72-g01140da4e8-1"
OUTPUTS = ("xen", "xen-syms", "xen.gz", ".config")
KEEP_BUILDS = 6

_GIT_ENV = {"GIT_AUTHOR_NAME": "xenrr", "GIT_AUTHOR_EMAIL": "xenrr@localhost",
            "GIT_COMMITTER_NAME": "xenrr", "GIT_COMMITTER_EMAIL": "xenrr@localhost",
            "GIT_AUTHOR_DATE": "@0 +0000", "GIT_COMMITTER_DATE": "@0 +0000"}


@dataclass(frozen=True)
class Patch:
    name: str
    data: bytes


@dataclass(frozen=True)
class Series:
    """hypervisor-patches/series: patch names in application order, # comments."""

    text: bytes
    patches: tuple[Patch, ...]

    @classmethod
    def load(cls, directory: Path | None = None) -> "Series":
        directory = directory or source_dir() / "hypervisor-patches"
        series = directory / "series"
        if not series.is_file():
            raise LabError(f"{series} is missing")
        text = series.read_bytes()
        patches = []
        for lineno, line in enumerate(text.decode().splitlines(), 1):
            name = line.split("#", 1)[0].strip()
            if not name:
                continue
            path = directory / name
            if not path.is_file():
                raise LabError(f"{series}:{lineno}: patch {name} does not exist")
            patches.append(Patch(name, path.read_bytes()))
        return cls(text, tuple(patches))

    @property
    def digest(self) -> str:
        """The series identity that the patched hypervisor reports as its changeset."""
        h = hashlib.sha256(self.text)
        for p in self.patches:
            h.update(b"\0" + p.name.encode() + b"\0" + p.data)
        return h.hexdigest()[:16]


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


def compiler_identity() -> str:
    gcc = require("gcc", "gcc")
    return subprocess.run([gcc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def _say(msg: str) -> None:
    print(f"xenrr: {msg}", file=sys.stderr, flush=True)


def _git(repo: Path, *args: str, index: Path | None = None, check: bool = True,
         input: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **_GIT_ENV)
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    proc = subprocess.run(["git", "-C", str(repo), *args], env=env, input=input,
                          capture_output=True)
    if check and proc.returncode != 0:
        raise LabError(f"git {args[0]} in {repo} failed: "
                       f"{proc.stderr.decode(errors='replace').strip()}")
    return proc


class XenTree:
    """The pristine source repository and the per-flavour worktrees."""

    def __init__(self, root: Path):
        self.root = root
        self.src = root / "src" / SOURCE_VERSION

    def pristine(self) -> Path:
        """Fetch and extract the source once, and commit it as `pristine`."""
        if (self.src / ".git").is_dir() and _git(self.src, "rev-parse", "-q", "--verify",
                                                 "refs/tags/pristine", check=False).returncode == 0:
            return self.src
        require("dpkg-source", "dpkg-dev")
        require("git", "git")
        _say(f"fetching Debian's xen {SOURCE_VERSION} source")
        downloads = self.root / "downloads"
        dsc = PrivateApt(self.root / "apt").download_source(SOURCE_PACKAGE, SOURCE_VERSION,
                                                             downloads)
        tmp = self.src.with_name(self.src.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["dpkg-source", "--no-check", "--no-copy", "-x", str(dsc), str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise LabError(f"dpkg-source -x {dsc.name} failed: {proc.stderr.strip()[-300:]}")
        _git(tmp, "init", "-q")
        _git(tmp, "add", "-A", "-f", ".")
        _git(tmp, "commit", "-q", "-m", f"Debian xen {SOURCE_VERSION} (patches applied)")
        _git(tmp, "tag", "pristine")
        shutil.rmtree(self.src, ignore_errors=True)
        tmp.rename(self.src)
        return self.src

    def worktree(self, flavour: str) -> Path:
        work = self.root / f"work-{flavour}"
        if not (work / ".git").exists():
            shutil.rmtree(work, ignore_errors=True)
            _git(self.src, "worktree", "prune")
            _git(self.src, "worktree", "add", "-q", "--detach", str(work), "pristine")
        return work

    def apply_series(self, work: Path, series: Series) -> None:
        """Check out pristine + the series; report a failing patch by name and file."""
        index = work.parent / f".{work.name}.index"
        index.unlink(missing_ok=True)
        _git(work, "read-tree", "pristine", index=index)
        for patch in series.patches:
            proc = _git(work, "apply", "--cached", "--whitespace=nowarn", "-",
                        index=index, check=False, input=patch.data)
            if proc.returncode != 0:
                raise LabError(_patch_failure(patch.name, proc.stderr.decode(errors="replace")))
        tree = _git(work, "write-tree", index=index).stdout.decode().strip()
        index.unlink()
        commit = _git(work, "commit-tree", tree, "-p", "pristine", "-m",
                      f"xenrr series {series.digest}").stdout.decode().strip()
        _git(work, "checkout", "-q", "-f", "--detach", commit)


def _patch_failure(name: str, stderr: str) -> str:
    files = re.findall(r"error: (\S+?): (?:patch does not apply|does not exist in index|"
                       r"already exists in index)", stderr)
    where = files[0] if files else stderr.strip().splitlines()[-1] if stderr.strip() else "?"
    return f"patch {name} does not apply: {where}"


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
                       f"see {log.name}:\n{_tail(Path(log.name), 25)}")


def _tail(path: Path, lines: int) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class XenBuilds:
    """Find or produce the build for a spec; the entry point of `xenrr lab build`."""

    def __init__(self, root: Path | None = None):
        self.root = root or cache_dir() / "xen"

    def path(self, spec: BuildSpec) -> Path:
        return self.root / "builds" / spec.key

    def find(self, spec: BuildSpec) -> Path | None:
        out = self.path(spec)
        return out if (out / "build.json").is_file() else None

    def build(self, spec: BuildSpec) -> Path:
        """The directory holding the build's outputs; builds only on a cache miss."""
        found = self.find(spec)
        if found:
            os.utime(found)  # most recently used builds survive pruning
            return found
        require("make", "make")
        for tool, package in (("flex", "flex"), ("bison", "bison")):
            require(tool, package)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = self.find(spec)
            return found or self._build_locked(spec)

    def _build_locked(self, spec: BuildSpec) -> Path:
        tree = XenTree(self.root)
        tree.pristine()
        work = tree.worktree(spec.flavour)
        tree.apply_series(work, spec.series)
        log_path = self.root / f"work-{spec.flavour}.log"
        _say(f"building Xen {SOURCE_VERSION} ({spec.flavour}, series {spec.series.digest}, "
             f"{len(spec.series.patches)} patches); log: {log_path}")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            _configure(work, spec.release, log)
            _make(work, [], log, {"XENRR_SERIES": spec.series.digest})
        out = self.path(spec)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in OUTPUTS:
            if (work / "xen" / name).exists():
                shutil.copy2(work / "xen" / name, tmp / name.lstrip("."))
        elapsed = time.monotonic() - started
        (tmp / "build.json").write_text(json.dumps({
            "source": SOURCE_VERSION, "series": spec.series.digest,
            "patches": [p.name for p in spec.series.patches], "flavour": spec.flavour,
            "kconfig": kconfig(spec.release), "compiler": compiler_identity(),
            "seconds": round(elapsed, 1)}, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        _say(f"built in {elapsed:.0f} s")
        self._prune()
        return out

    def _prune(self) -> None:
        builds = sorted((p for p in (self.root / "builds").iterdir() if p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in builds[KEEP_BUILDS:]:
            shutil.rmtree(old, ignore_errors=True)
