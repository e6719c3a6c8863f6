"""Boot the PMU test kernel under a QEMU and read its results off the serial line.

The kernel prints one result a line, `KIND key=value ...`, numbers in hex
(main.c); `records` turns those lines into dicts with ints. A run takes
the lab's machine-wide QEMU lock (xenrr.lab.session.QEMU_LOCK: two cores,
one QEMU at a time) for the fraction of a second it lasts and keeps its
serial log under $XENRR_CACHE/baremetal/runs/.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab.baremetal.builder import baremetal_dir
from xenrr.lab.qemu import CPU, MACHINE, die_with_parent
from xenrr.lab.session import QEMU_LOCK

EXIT_DONE = (0x10 << 1) | 1     # isa-debug-exit: (value << 1) | 1
KEEP_RUNS = 20


@dataclass
class Run:
    serial: Path
    records: list[dict]
    seconds: float

    def of(self, kind: str, **match) -> list[dict]:
        """The records of a kind whose fields equal match."""
        return [r for r in self.records
                if r["kind"] == kind and all(r.get(k) == v for k, v in match.items())]


def records(text: str) -> list[dict]:
    """`KIND key=value ...` lines as dicts (kind, and the values, hex ones as ints)."""
    out = []
    for line in text.replace("\r", "").splitlines():
        words = line.split()
        if len(words) < 2 or not all("=" in w for w in words[1:]):
            continue
        record = {"kind": words[0]}
        for word in words[1:]:
            key, _, value = word.partition("=")
            record[key] = int(value, 16) if value.startswith("0x") else value
        out.append(record)
    return out


@contextmanager
def qemu_lock():
    """Hold the lab's machine-wide QEMU lock, waiting (and saying so) for another holder."""
    with open(QEMU_LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("xenrr: waiting for another lab session to end", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run_dir() -> Path:
    runs = baremetal_dir() / "runs"
    runs.mkdir(exist_ok=True)
    old = sorted(runs.iterdir())
    for stale in old[:max(0, len(old) - KEEP_RUNS + 1)]:
        shutil.rmtree(stale, ignore_errors=True)
    d = runs / time.strftime(f"%Y%m%d-%H%M%S-{os.getpid()}-{time.monotonic_ns()}")
    d.mkdir()
    return d


def argv(qemu: Path, kernel: Path, args: str, serial: Path, cpu_options: str = "") -> list[str]:
    """The lab's machine and CPU with the kernel, one vCPU, its serial line to a file."""
    cpu = f"{CPU},{cpu_options}" if cpu_options else CPU
    return [str(qemu), *MACHINE, "-cpu", cpu, "-m", "64M", "-nodefaults", "-display", "none",
            "-no-reboot", "-serial", f"file:{serial}",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", str(kernel), "-append", args]


def run(qemu: Path, kernel: Path, args: str, cpu_options: str = "",
        timeout: float = 120) -> Run:
    """Boot kernel with args on qemu; its records, or a LabError naming the serial log."""
    serial = _run_dir() / "serial.log"
    cmd = argv(qemu, kernel, args, serial, cpu_options)
    with qemu_lock():
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, preexec_fn=die_with_parent)
        except subprocess.TimeoutExpired:
            raise LabError(f"the PMU test kernel did not finish within {timeout:.0f} s "
                           f"(serial log: {serial})") from None
        seconds = time.monotonic() - started
    text = serial.read_text(errors="replace") if serial.exists() else ""
    if proc.returncode != EXIT_DONE:
        last = text.strip().splitlines()[-1:] or [proc.stderr.strip() or "no output"]
        raise LabError(f"the PMU test kernel ended with status {proc.returncode}: {last[0]} "
                       f"(serial log: {serial})")
    return Run(serial, records(text), seconds)
