"""Building a Debian source package with a series of xenrr's patches, cached by its inputs.

The lab builds two: Xen (xenbuild.py) and QEMU (qemubuild.py). Both take the
pinned source with `apt-get source` through the lab's private deb-src list,
commit it once to a private git repository ("pristine"), check out pristine
plus the series as a commit in a worktree (so git rewrites only the files
whose content changes and the build is incremental), and keep each build's
outputs under a key hashing its inputs.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.aptsrc import PrivateApt
from xenrr.lab.gccbuild import compiler_version
from xenrr.lab.tools import require

_GIT_ENV = {"GIT_AUTHOR_NAME": "xenrr", "GIT_AUTHOR_EMAIL": "xenrr@localhost",
            "GIT_COMMITTER_NAME": "xenrr", "GIT_COMMITTER_EMAIL": "xenrr@localhost",
            "GIT_AUTHOR_DATE": "@0 +0000", "GIT_COMMITTER_DATE": "@0 +0000"}


@dataclass(frozen=True)
class Patch:
    name: str
    data: bytes


@dataclass(frozen=True)
class Series:
    """A `series` file: patch names in application order, # comments."""

    text: bytes
    patches: tuple[Patch, ...]

    @classmethod
    def load(cls, directory: Path) -> "Series":
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
        """The series' identity (the patched hypervisor reports it as its changeset)."""
        h = hashlib.sha256(self.text)
        for p in self.patches:
            h.update(b"\0" + p.name.encode() + b"\0" + p.data)
        return h.hexdigest()[:16]


def compiler_identity() -> str:
    return compiler_version(require("gcc", "gcc"))


def say(msg: str) -> None:
    print(f"xenrr: {msg}", file=sys.stderr, flush=True)


def git(repo: Path, *args: str, index: Path | None = None, check: bool = True,
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


class SourceTree:
    """A Debian source package's pristine repository and its per-flavour worktrees."""

    def __init__(self, root: Path, package: str, version: str):
        self.root = root
        self.package, self.version = package, version
        self.src = root / "src" / version

    def pristine(self) -> Path:
        """Fetch and extract the source once, and commit it as `pristine`."""
        if (self.src / ".git").is_dir() and git(self.src, "rev-parse", "-q", "--verify",
                                                 "refs/tags/pristine", check=False).returncode == 0:
            return self.src
        require("dpkg-source", "dpkg-dev")
        require("git", "git")
        say(f"fetching Debian's {self.package} {self.version} source")
        downloads = self.root / "downloads"
        dsc = PrivateApt(self.root / "apt").download_source(self.package, self.version,
                                                             downloads)
        tmp = self.src.with_name(self.src.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["dpkg-source", "--no-check", "--no-copy", "-x", str(dsc), str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise LabError(f"dpkg-source -x {dsc.name} failed: {proc.stderr.strip()[-300:]}")
        git(tmp, "init", "-q")
        git(tmp, "add", "-A", "-f", ".")
        git(tmp, "commit", "-q", "-m", f"Debian {self.package} {self.version} (patches applied)")
        git(tmp, "tag", "pristine")
        shutil.rmtree(self.src, ignore_errors=True)
        tmp.rename(self.src)
        return self.src

    def worktree(self, flavour: str) -> Path:
        work = self.root / f"work-{flavour}"
        if not (work / ".git").exists():
            shutil.rmtree(work, ignore_errors=True)
            git(self.src, "worktree", "prune")
            git(self.src, "worktree", "add", "-q", "--detach", str(work), "pristine")
        return work

    def apply_series(self, work: Path, series: Series) -> None:
        """Check out pristine + the series; report a failing patch by name and file."""
        index = work.parent / f".{work.name}.index"
        index.unlink(missing_ok=True)
        git(work, "read-tree", "pristine", index=index)
        for patch in series.patches:
            proc = git(work, "apply", "--cached", "--whitespace=nowarn", "-",
                        index=index, check=False, input=patch.data)
            if proc.returncode != 0:
                raise LabError(_patch_failure(patch.name, proc.stderr.decode(errors="replace")))
        tree = git(work, "write-tree", index=index).stdout.decode().strip()
        index.unlink()
        commit = git(work, "commit-tree", tree, "-p", "pristine", "-m",
                      f"xenrr series {series.digest}").stdout.decode().strip()
        git(work, "checkout", "-q", "-f", "--detach", commit)


def _patch_failure(name: str, stderr: str) -> str:
    files = re.findall(r"error: (\S+?): (?:patch does not apply|does not exist in index|"
                       r"already exists in index)", stderr)
    where = files[0] if files else stderr.strip().splitlines()[-1] if stderr.strip() else "?"
    return f"patch {name} does not apply: {where}"


def tail(path: Path, lines: int) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class BuildCache(ABC):
    """Builds kept under root/builds/<key>/, found again by their spec's key.

    A build happens under a lock (two sessions never build at once) and
    appears whole or not at all (built into <key>.tmp, then renamed); the
    `keep` most recently used builds are kept.
    """

    tools: tuple[tuple[str, str], ...] = ()   # (command, Debian package) the build needs

    def __init__(self, root: Path, keep: int):
        self.root = root
        self.keep = keep

    def path(self, spec) -> Path:
        return self.root / "builds" / spec.key

    def find(self, spec) -> Path | None:
        out = self.path(spec)
        return out if (out / "build.json").is_file() else None

    def build(self, spec) -> Path:
        """The directory holding the build's outputs; builds only on a cache miss."""
        found = self.find(spec)
        if found:
            os.utime(found)  # most recently used builds survive pruning
            return found
        for tool, package in self.tools:
            require(tool, package)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self.find(spec) or self._build_locked(spec)

    @abstractmethod
    def _build_locked(self, spec) -> Path:
        """Build, then `publish`."""

    def publish(self, spec, files: dict[str, Path], info: dict) -> Path:
        """Copy a build's files (name -> source) and its build.json into place, whole."""
        out = self.path(spec)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, source in files.items():
            shutil.copy2(source, tmp / name)
        (tmp / "build.json").write_text(json.dumps(info, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        self._prune()
        return out

    def _prune(self) -> None:
        builds = sorted((p for p in (self.root / "builds").iterdir() if p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in builds[self.keep:]:
            shutil.rmtree(old, ignore_errors=True)
