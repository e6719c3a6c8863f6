"""Guest images built with the host's gcc, cached by their inputs (micro-guests, the PMU kernel).

A build goes to a temporary directory renamed into place when complete, so a
reader never sees half an image and two builders cannot collide; the
directory's name is a hash of everything the build reads.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from xenrr.errors import LabError


def compiler_version(gcc: str) -> str:
    """gcc's own description of itself (the first line of --version)."""
    try:
        out = subprocess.run([gcc, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise LabError(f"cannot run {gcc} --version: {e}") from None
    return out.splitlines()[0] if out else ""


def build_key(parts: Iterable[str], sources: Iterable[Path]) -> str:
    """The hash naming a build: its settings, then every source file's name and content."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    for src in sources:
        data = src.read_bytes()
        h.update(f"{src.name}\0{len(data)}\0".encode() + data)
    return h.hexdigest()[:16]


def build_once(final: Path, product: str, compile: Callable[[Path], None], what: str) -> Path:
    """final/product, made by compile(directory) unless a build is there already."""
    out = final / product
    if out.is_file():
        return out
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        tmp.chmod(0o755)
        compile(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not out.is_file():   # not another builder that got there first
                raise LabError(f"cannot install the {what} build in {final}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
