"""Run one domU to its end inside the lab's dom0 and report what it did.

The domain is created paused (`xl create -p` returns once the domain is
completely built), so that a mode can be switched on before its first
instruction: shared shadow paging (Xen's stock shadow mode, the baseline) or
xenrr's record mode. Its on_poweroff/on_crash/on_reboot actions are
overridden to "preserve", so that when it stops it stays, shut down, for
its shutdown code and its final rr counters to be read; then it is
destroyed. The guest's console comes from xenconsoled's log (the lab starts
it with --log=guest).
"""

import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from xenrr.domains import create_paused, destroy, status_snapshot, xl
from xenrr.domconfig import DomainConfig
from xenrr.errors import LabError, UsageError
from xenrr.hypercalls.domctl import enable_shadow, getdomaininfo
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl

CONSOLE_LOG_DIR = Path("/var/log/xen/console")
XENCTX = "/usr/lib/xen-4.17/bin/xenctx"
MODES = ("native", "shadow", "rr")
PRESERVE = ["on_poweroff=\"preserve\"", "on_crash=\"preserve\"", "on_reboot=\"preserve\"",
            "on_watchdog=\"preserve\"", "on_soft_reset=\"preserve\""]


@dataclass
class GuestRun:
    name: str
    domid: int
    mode: str            # one of MODES
    reason: str          # a domctl.SHUTDOWN_REASONS value, or "timeout"
    seconds: float       # from unpause to shutdown
    console: str
    shadow_mb: int       # the shadow pool Xen reported after the mode was set (0: none)
    rr: dict | None      # final rr counters (mode rr): see xenrr status --json
    hang: str | None     # reason "timeout": where the vCPUs were (xl vcpu-list, xenctx)

    def as_dict(self) -> dict:
        return asdict(self)


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


SHARED_SHADOW_MB = 64  # the pool for --shadow runs, as the lab has always used


def _set_mode(privcmd: Privcmd, domid: int, mode: str, shadow_mb: int | None) -> int:
    """Switch the paused domain to mode; the shadow pool Xen then reports (MB)."""
    if mode == "shadow":
        return enable_shadow(privcmd, domid, shadow_mb or SHARED_SHADOW_MB)
    if mode == "rr":
        rr = RrControl(privcmd)
        rr.enable(domid, shadow_mb=shadow_mb or 0)
        return rr.stats(domid).shadow_mb
    return 0


def _wait_for_shutdown(privcmd: Privcmd, domid: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reason = getdomaininfo(privcmd, domid).shutdown_reason
        if reason is not None:
            return reason
        time.sleep(0.2)
    return "timeout"


@dataclass
class StartedGuest:
    name: str
    domid: int
    mode: str
    shadow_mb: int
    console_log: Path
    console_offset: int
    started: float


def start_guest(privcmd: Privcmd, cfg: Path, mode: str = "native",
                shadow_mb: int | None = None,
                overrides: tuple[str, ...] = ()) -> StartedGuest:
    """Create cfg (with xl-style KEY=VALUE overrides) paused, set its mode, unpause it."""
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
    config = DomainConfig.from_xl_file(cfg, (*overrides, *PRESERVE))
    name = config.name
    console_log = CONSOLE_LOG_DIR / f"guest-{name}.log"
    console_offset = console_log.stat().st_size if console_log.exists() else 0
    domid = create_paused(privcmd, config).domid
    try:
        pool = _set_mode(privcmd, domid, mode, shadow_mb)
        proc = xl("unpause", str(domid))
        if proc.returncode != 0:
            raise LabError(f"xl unpause {domid} failed: {proc.stderr.strip()}")
    except BaseException:
        destroy(domid)
        raise
    return StartedGuest(name, domid, mode, pool, console_log, console_offset, time.monotonic())


def _where_are_the_vcpus(privcmd: Privcmd, domid: int) -> str:
    """A hung guest's vCPUs: scheduler state, registers and stack (symbols if known)."""
    text = xl("vcpu-list", str(domid)).stdout
    system_map = sorted(Path("/boot").glob("System.map-*"))
    for vcpu in range(getdomaininfo(privcmd, domid).nr_vcpus):
        argv = [XENCTX, "-S", *(["-s", str(system_map[-1])] if system_map else []),
                str(domid), str(vcpu)]
        proc = subprocess.run(argv, capture_output=True, text=True)
        text += f"--- vCPU {vcpu}\n{proc.stdout}{proc.stderr}"
    return text


def finish_guest(privcmd: Privcmd, guest: StartedGuest, timeout: float = 300) -> GuestRun:
    """Wait for a started guest to shut down, collect what it did, destroy it."""
    hang = None
    try:
        reason = _wait_for_shutdown(privcmd, guest.domid,
                                    timeout - (time.monotonic() - guest.started))
        seconds = time.monotonic() - guest.started
        final = (status_snapshot(privcmd, str(guest.domid))
                 if guest.mode == "rr" else None)
        if reason == "timeout":
            hang = _where_are_the_vcpus(privcmd, guest.domid)
    finally:
        destroy(guest.domid)
    return GuestRun(guest.name, guest.domid, guest.mode, reason, round(seconds, 2),
                    _console_since(guest.console_log, guest.console_offset),
                    guest.shadow_mb, final, hang)


def run_guest(cfg: Path, mode: str = "native", timeout: float = 300,
              shadow_mb: int | None = None) -> GuestRun:
    with Privcmd() as privcmd:
        return finish_guest(privcmd, start_guest(privcmd, cfg, mode, shadow_mb), timeout)
