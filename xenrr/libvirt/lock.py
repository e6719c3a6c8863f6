"""The recorder of one libvirt domain as the hook finds it: a lock file per domain uuid.

The recorder holds an exclusive flock on RUN_DIR/libvirt/UUID.lock for its
whole life and keeps its pid and phase in it: "waiting" (for Xen to create
the domain) until it has paused the new domain, "recording" from then on.
The hook's `stopped` call tells a waiting recorder to give up (libvirt
stopped the domain before Xen made it) and waits for a recording one to
close its trace. The kernel drops the lock when its holder dies, so it
cannot go stale as a pid file can. The file itself stays (unlinking a lock
file races with its next holder).
"""

import fcntl
import os
import time
from pathlib import Path
from typing import NamedTuple

from xenrr.errors import UsageError

WAITING, RECORDING = "waiting", "recording"
_WIDTH = max(len(WAITING), len(RECORDING))


def run_dir() -> Path:
    """Where xenrr keeps run-time state: $XENRR_RUN_DIR, else /run/xenrr.

    libvirtd passes its hooks only a few variables of its own
    (virCommandAddEnvPassCommon), so the override is for hooks tests run.
    """
    return Path(os.environ.get("XENRR_RUN_DIR") or "/run/xenrr")


class Holder(NamedTuple):
    pid: int | None   # None if the file could not be read whole
    phase: str


class RecorderLock:
    def __init__(self, uuid: str, root: Path | None = None):
        self.path = (root or run_dir()) / "libvirt" / f"{uuid}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        """Hold the lock for this process's life, phase "waiting"; refused if another holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.holder()
            pid = holder.pid if holder else "?"
            raise UsageError(f"the recorder of an earlier start of this domain still runs "
                             f"(pid {pid})") from None
        self.fd = fd
        self.set_phase(WAITING)

    def set_phase(self, phase: str) -> None:
        # One write of a fixed width at offset 0: a reader sees the old line or the new.
        os.pwrite(self.fd, f"{os.getpid()} {phase:<{_WIDTH}}\n".encode(), 0)

    def holder(self) -> Holder | None:
        """The recorder holding the lock, or None if none does."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return None
            except BlockingIOError:
                words = os.pread(fd, 64, 0).decode(errors="replace").split()
        finally:
            os.close(fd)
        if len(words) == 2 and words[0].isdigit():
            return Holder(int(words[0]), words[1])
        return Holder(None, "")

    def wait_released(self, timeout: float, poll: float = 0.1) -> bool:
        """Whether no recorder holds the lock within timeout seconds."""
        deadline = time.monotonic() + timeout
        while self.holder() is not None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True
