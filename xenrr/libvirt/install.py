"""Putting the hook where libvirt looks for it, and taking it away.

libvirt (6.5 and later) runs every executable in /etc/libvirt/hooks/libxl.d/
for the libxl driver, so xenrr's hook lives there under its own name and
leaves any other hook alone. The file installed is dom0-tools/libvirt-hook
with its first line naming the Python that runs xenrr: libvirtd runs hooks
with its own PATH, whose python3 need not have xenrr. libvirtd looks for
hooks when it starts and when it reloads.
"""

import os
import sys
from pathlib import Path

from xenrr.errors import UsageError
from xenrr.sourcetree import source_dir

HOOK_DIR = Path("etc/libvirt/hooks/libxl.d")   # under the root
HOOK_NAME = "xenrr"
SOURCE = Path("dom0-tools") / "libvirt-hook"


def hook_path(root: Path = Path("/")) -> Path:
    return root / HOOK_DIR / HOOK_NAME


def hook_text(python: str = sys.executable) -> str:
    """dom0-tools/libvirt-hook with `python` in its first line."""
    source = source_dir() / SOURCE
    try:
        lines = source.read_text().splitlines(keepends=True)
    except FileNotFoundError:
        raise UsageError(f"{source} not found: install-hooks runs from xenrr's source tree") \
            from None
    return f"#!{python}\n" + "".join(lines[1:])


def install(root: Path = Path("/"), python: str = sys.executable) -> Path:
    """Write the hook (atomically, mode 0755); its path."""
    path = hook_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{HOOK_NAME}.tmp")
        tmp.write_text(hook_text(python))
        tmp.chmod(0o755)
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(f"cannot install {path}: {e.strerror}") from None
    return path


def remove(root: Path = Path("/")) -> Path | None:
    """Delete the hook; its path, or None if it was not installed."""
    path = hook_path(root)
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UsageError(f"cannot remove {path}: {e.strerror}") from None
    return path
