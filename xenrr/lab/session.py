"""A lab session: one boot of the patched Xen under QEMU serving many dom0 commands.

Booting costs ~15-25 s under TCG, so tests share one session and send it
commands; `xenrr lab run` is a session with a single command. Only one QEMU
runs at a time on a machine (2 cores): a session holds a machine-wide lock for
its whole life and waits, saying so, while another session holds it.
Whatever happens (an exception, Ctrl-C, SIGTERM), QEMU does not outlive the
session; if xenrr itself is killed, the kernel kills QEMU (PR_SET_PDEATHSIG).
"""

import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.agent import Share, write_atomically
from xenrr.lab.dom0image import dom0_image, lab_file
from xenrr.lab.paths import cache_dir
from xenrr.lab.qemu import Qemu
from xenrr.lab.xenbuild import BuildSpec, XenBuilds, hypervisor_series

BOOT_TIMEOUT = 300.0
POLL_SECONDS = 0.1
KEEP_RUNS = 20
DOM0_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Machine-wide, not per cache: the limit is the machine's two cores.
QEMU_LOCK = Path(tempfile.gettempdir()) / "xenrr-qemu.lock"


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool = False


class LabCrash(LabError):
    """Xen or dom0 went down, or QEMU ended, while the lab was in use."""

    def __init__(self, message: str, serial: Path, tail: str):
        super().__init__(f"{message}\nserial log: {serial}\n--- last lines ---\n{tail}")
        self.serial = serial


def built_xen(release: bool = False) -> Path:
    """The hypervisor built from the tree's series, or an error saying how to build it."""
    spec = BuildSpec(hypervisor_series(), release)
    found = XenBuilds().find(spec)
    if found is None:
        flag = " --release" if release else ""
        raise LabError(f"no hypervisor built for this patch series ({spec.series.digest}): "
                       f"run `xenrr lab build{flag}` first")
    return found / "xen"


class LabSession:
    def __init__(self, xen: Path | None = None, release: bool = False,
                 boot_timeout: float = BOOT_TIMEOUT, echo_serial: bool = False):
        self.xen = xen or built_xen(release)
        self.boot_timeout = boot_timeout
        self.echo_serial = echo_serial
        self.root = cache_dir() / "lab"
        self.qemu: Qemu | None = None
        self._lock = None
        self._next = 1
        self._in_flight = False
        self._serial_offset = 0
        self.boot_seconds = 0.0

    # -- life cycle -------------------------------------------------------

    def __enter__(self) -> "LabSession":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _acquire(self) -> None:
        self._lock = open(QEMU_LOCK, "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("xenrr: waiting for another lab session to end", file=sys.stderr, flush=True)
            fcntl.flock(self._lock, fcntl.LOCK_EX)

    def start(self) -> None:
        dom0 = dom0_image(self.root)
        self._acquire()
        self.dir = self._new_run_dir()
        self.share = Share(self.dir / "share")
        self.share.create()
        self.share.stage2.write_bytes(lab_file("stage2"))
        venv_bin = Path(sys.executable).parent
        self.share.boot_env.write_text(
            f"XENRR_PYTHON='{sys.executable}'\nPATH='{venv_bin}:{DOM0_PATH}'\n"
            f"XENRR_CACHE='{cache_dir()}'\n")
        self.serial = self.dir / "serial.log"
        self.qemu = Qemu(self.xen, dom0, self.share.root, cache_dir(), self.serial)
        self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_exit)
        started = time.monotonic()
        self.qemu.start()
        self._wait_for(lambda: self.share.ready.exists(), self.boot_timeout,
                       "dom0 did not come up")
        self.boot_seconds = time.monotonic() - started

    def _new_run_dir(self) -> Path:
        runs = self.root / "runs"
        runs.mkdir(exist_ok=True)
        old = sorted(runs.iterdir())
        for stale in old[:max(0, len(old) - KEEP_RUNS + 1)]:
            shutil.rmtree(stale, ignore_errors=True)
        d = runs / time.strftime(f"%Y%m%d-%H%M%S-{os.getpid()}")
        d.mkdir()
        return d

    def close(self) -> None:
        """Ask an idle dom0 to power off; otherwise, or if it does not, kill QEMU.

        Interrupted in the middle of a command (Ctrl-C, SIGTERM, a timeout),
        dom0's agent would only see the power-off request after the command:
        QEMU is killed at once instead.
        """
        if self.qemu is not None:
            if self.qemu.running() and self.share.ready.exists() and not self._in_flight:
                write_atomically(self.share.request(self._next), json.dumps({"op": "shutdown"}))
                self.qemu.wait(30)
            self.qemu.kill()
            self.qemu = None
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- commands ---------------------------------------------------------

    def run(self, argv: list[str], timeout: float = 600, env: dict[str, str] | None = None,
            cwd: str | None = None, stream: bool = False) -> CommandResult:
        """Run argv in dom0 and return its result; LabCrash if the machine goes down."""
        if self.qemu is None:
            raise LabError("the lab session is not running")
        n = self._next
        self._next += 1
        request = {"argv": list(map(str, argv)), "timeout": timeout, "env": env or {},
                   "cwd": cwd or os.getcwd()}
        write_atomically(self.share.request(n), json.dumps(request))
        streams = [(self.share.out(n), sys.stdout), (self.share.err(n), sys.stderr)]
        offsets = [0, 0]

        def done() -> bool:
            if stream:
                for i, (path, sink) in enumerate(streams):
                    offsets[i] = _copy_new(path, offsets[i], sink)
            return self.share.status(n).exists()

        self._in_flight = True
        self._wait_for(done, timeout + 60, f"dom0 command {argv[0]} did not finish")
        self._in_flight = False
        done()
        status = json.loads(self.share.status(n).read_text())
        return CommandResult(
            argv=request["argv"], returncode=status["returncode"],
            stdout=self.share.out(n).read_text(errors="replace"),
            stderr=self.share.err(n).read_text(errors="replace"),
            elapsed=status["elapsed"], timed_out=status["timed_out"])

    def _wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.echo_serial:
                self._serial_offset = _copy_new(self.serial, self._serial_offset, sys.stderr)
            if not self.qemu.running():
                raise LabCrash(f"{what}: {self.qemu.exit_message()}", self.serial,
                               self.qemu.serial_tail())
            crash = self.qemu.crash_line()
            if crash:
                self.qemu.wait(10)
                raise LabCrash(f"{what}: {crash}", self.serial, self.qemu.serial_tail())
            if time.monotonic() > deadline:
                raise LabCrash(f"{what} within {timeout:.0f} s", self.serial,
                               self.qemu.serial_tail())
            time.sleep(POLL_SECONDS)

    def serial_tail(self, lines: int = 40) -> str:
        return self.qemu.serial_tail(lines) if self.qemu else ""


def _copy_new(path: Path, offset: int, sink) -> int:
    """Copy what was appended to path since offset to sink; the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return offset
    if data:
        sink.write(data.decode(errors="replace"))
        sink.flush()
    return offset + len(data)


def _sigterm_to_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)
