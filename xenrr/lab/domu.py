"""Run one domU to its end inside the lab's dom0 and report what it did.

The domain starts paused so that a mode (shadow paging now, recording later)
can be switched on before its first instruction. The guest's console is read
from xenconsoled's log (the lab starts it with --log=guest).
"""

import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from xenrr.errors import LabError

CONSOLE_LOG_DIR = Path("/var/log/xen/console")
XL_LOG_DIR = Path("/var/log/xen")
XEN_PYTHON = "/usr/lib/xen-4.17/lib/python"
SHADOW_OP_ENABLE_TEST = 1  # XEN_DOMCTL_SHADOW_OP_ENABLE_TEST, public/domctl.h

# SHUTDOWN_* in public/sched.h, as xl reports them ("reason code N").
SHUTDOWN_REASONS = {0: "poweroff", 1: "reboot", 2: "suspend", 3: "crash", 4: "watchdog",
                    5: "soft_reset"}


@dataclass
class GuestRun:
    name: str
    domid: int
    reason: str          # a SHUTDOWN_REASONS value, or "timeout"
    seconds: float       # from unpause to the end
    console: str
    mode: str            # "native" or "shadow"
    shadow_mb: int       # the domain's shadow pool as Xen reports it (0: not in shadow mode)

    def as_dict(self) -> dict:
        return asdict(self)


def config_name(cfg: Path) -> str:
    """The domain name a config sets: xl names its domains, we find ours by it."""
    m = re.search(r'^\s*name\s*=\s*["\']([^"\']+)["\']', cfg.read_text(), re.M)
    if not m:
        raise LabError(f"{cfg}: no name = \"...\" setting")
    return m.group(1)


def _xl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["xl", *args], capture_output=True, text=True)


def _domid(name: str) -> int | None:
    proc = _xl("domid", name)
    return int(proc.stdout) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None


def enable_shadow(domid: int, pool_mb: int) -> int:
    """Put a paused PV domain in shadow mode (what xenrr's ENABLE will do itself).

    Returns the shadow pool Xen then reports (MB), the proof that it took effect.
    """
    if XEN_PYTHON not in sys.path:
        sys.path.append(XEN_PYTHON)
    try:
        import xen.lowlevel.xc as xc  # noqa: PLC0415 - Xen's bindings, only in dom0
    except ImportError as e:
        raise LabError(f"Xen's Python bindings are missing ({e}): install xen-utils-4.17") from None
    handle = xc.xc()
    try:
        handle.shadow_mem_control(domid, mb=pool_mb)
        handle.shadow_control(domid, SHADOW_OP_ENABLE_TEST)
        return handle.shadow_mem_control(domid)
    except xc.Error as e:
        raise LabError(f"cannot put domain {domid} in shadow mode: {e}") from None


def _console_since(path: Path, offset: int, settle: float = 0.3) -> str:
    """What the guest wrote after offset, once xenconsoled has stopped writing."""
    size = -1
    while path.exists() and path.stat().st_size != size:
        size = path.stat().st_size
        time.sleep(settle)
    if not path.exists():
        return ""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _reason(xl_log: Path) -> str:
    """The shutdown reason xl's monitoring process logged (xl rotates the log per domain)."""
    if not xl_log.exists():
        return "unknown"
    with open(xl_log, "rb") as f:
        m = re.search(rb"has shut down, reason code (\d+)", f.read())
    return SHUTDOWN_REASONS.get(int(m.group(1)), m.group(1).decode()) if m else "unknown"


def run_guest(cfg: Path, shadow_mb: int | None = None, timeout: float = 300) -> GuestRun:
    """Create cfg paused, optionally in shadow mode, unpause, wait for its end.

    `xl create -p` returns only once the domain is completely built (unpausing
    earlier races with the domain builder still loading the kernel), then
    leaves a monitoring xl behind that applies on_poweroff/on_crash and logs
    the shutdown reason to /var/log/xen/xl-NAME.log.
    """
    name = config_name(cfg)
    if _domid(name) is not None:
        raise LabError(f"a domain named {name} already exists")
    console_log = CONSOLE_LOG_DIR / f"guest-{name}.log"
    xl_log = XL_LOG_DIR / f"xl-{name}.log"
    console_offset = console_log.stat().st_size if console_log.exists() else 0
    proc = _xl("create", "-p", str(cfg))
    domid = _domid(name)
    if proc.returncode != 0 or domid is None:
        raise LabError(f"xl create {cfg} failed: {(proc.stderr or proc.stdout).strip()}")
    try:
        pool = enable_shadow(domid, shadow_mb) if shadow_mb is not None else 0
        started = time.monotonic()
        proc = _xl("unpause", str(domid))
        if proc.returncode != 0:
            raise LabError(f"xl unpause {domid} failed: {proc.stderr.strip()}")
        while _domid(name) is not None and time.monotonic() - started < timeout:
            time.sleep(0.2)
        seconds = time.monotonic() - started
        reason = "timeout" if _domid(name) is not None else _reason(xl_log)
    finally:
        if _domid(name) is not None:
            _xl("destroy", name)
    return GuestRun(name, domid, reason, round(seconds, 2),
                    _console_since(console_log, console_offset),
                    "shadow" if shadow_mb is not None else "native", pool)
