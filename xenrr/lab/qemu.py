"""The QEMU process that runs the patched Xen (TCG), and what its serial line says.

The QEMU is the lab's own (xenrr/lab/qemubuild.py: Debian's, with a branch
counter for the CPU, docs/lab-pmu.md), not the system's. The command line
follows LAB.md: q35, multi-threaded TCG, `-cpu max,-smap`
(SMAP under TCG crashes dom0), Xen as the multiboot kernel with eager FPU
switching (see XEN_ARGS) and dom0's kernel and initramfs as modules, the
host's root shared read-only and the lab share read-write, and xenrr's cache
(which changes while the lab runs) read-only and uncached, over virtio-9p.
`-no-reboot` turns Xen's reboot after a panic or a dom0 crash into QEMU
exiting, so a failure ends the run instead of looping.
"""

import ctypes
import re
import signal
import subprocess
from pathlib import Path

from xenrr.lab.dom0image import Dom0Image
from xenrr.lab.qemubuild import built_qemu

# spec-ctrl=eager-fpu: Xen's default on AMD is lazy FPU switching, which
# relies on CR0.TS making a vCPU's first FPU instruction trap (#NM) so Xen
# can load that vCPU's registers. QEMU 7.2's TCG raises no #NM for
# VEX-encoded (AVX) instructions, so under lazy switching a vCPU's AVX code
# runs on the registers another vCPU left behind: dom0's memcpy and numpy
# then write other processes' values (tests/lab/test_fpu_isolation.py).
XEN_ARGS = ("console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 "
            "loglvl=all guest_loglvl=all conring_size=1m spec-ctrl=eager-fpu")

# Lines on the serial console that mean the machine is going down.
CRASH_PATTERNS = re.compile(
    r"Panic on CPU \d+|Xen BUG at|FATAL TRAP|Hardware Dom0 crashed|Kernel panic - not syncing"
    r"|xenrr-lab: dom0 (?:init|stage2): ")

# The lab's machine and CPU (SMAP under TCG crashes dom0); whatever else runs
# on the lab's QEMU (the PMU test kernel, bench) boots the same.
MACHINE = ("-machine", "q35", "-accel", "tcg,thread=multi")
CPU = "max,-smap"

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in the child before exec: QEMU gets SIGKILL if xenrr dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Qemu:
    def __init__(self, xen: Path, dom0: Dom0Image, share: Path, cache: Path, serial: Path,
                 memory: str = "3G", cpus: int = 2, xen_args: str = XEN_ARGS):
        self.xen, self.dom0, self.share, self.cache, self.serial = xen, dom0, share, cache, serial
        self.memory, self.cpus, self.xen_args = memory, cpus, xen_args
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        binary = str(built_qemu())
        modules = (f"{self.dom0.kernel.vmlinuz} {self.dom0.kernel_args},"
                   f"{self.dom0.initramfs}")
        return [
            binary, *MACHINE, "-cpu", CPU, "-smp", str(self.cpus), "-m", self.memory,
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{self.serial}",
            "-kernel", str(self.xen), "-append", self.xen_args, "-initrd", modules,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
                       "multidevs=remap",
            "-virtfs", f"local,path={self.share},mount_tag=xenrrlab,security_model=none,"
                       "multidevs=remap",
            "-virtfs", f"local,path={self.cache},mount_tag=xenrrcache,security_model=none,"
                       "readonly=on,multidevs=remap",
        ]

    @property
    def stderr_path(self) -> Path:
        return self.serial.with_name("qemu.stderr")

    def start(self) -> None:
        argv = self.argv()
        self.serial.touch()
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr,
                                         start_new_session=True, preexec_fn=die_with_parent)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_message(self) -> str:
        """Why QEMU is gone: its exit status and what it printed on stderr."""
        assert self.proc is not None
        err = self.stderr_path.read_text(errors="replace").strip()
        return f"QEMU exited with status {self.proc.returncode}" + (f": {err}" if err else "")

    def crash_line(self) -> str | None:
        """The first serial line that says Xen or dom0 is going down, if any."""
        text = self.serial.read_text(errors="replace")
        m = CRASH_PATTERNS.search(text)
        if not m:
            return None
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        return text[start:end if end >= 0 else None].strip()

    def serial_tail(self, lines: int = 40) -> str:
        text = self.serial.read_text(errors="replace").replace("\r", "").splitlines()
        return "\n".join(text[-lines:])

    def wait(self, timeout: float) -> bool:
        """Wait for QEMU to exit by itself; True if it did."""
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait()

