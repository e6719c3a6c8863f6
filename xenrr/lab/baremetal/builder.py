"""Build the PMU test kernel with the host's gcc, cached by its inputs.

Layout under the cache (see xenrr.lab.paths.cache_dir):
  baremetal/build-<key>/pmu.elf   one build; <key> hashes every source file in
                                  guest/, the gcc version and the flags
A build goes into place whole (gccbuild.build_once).
"""

import subprocess
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab import gccbuild, paths
from xenrr.lab.gccbuild import compiler_version
from xenrr.lab.tools import require

GUEST_DIR = Path(__file__).resolve().with_name("guest")
SOURCE_SUFFIXES = (".c", ".h", ".S", ".lds")
ELF_NAME = "pmu.elf"
LINKER_SCRIPT = "pmu.lds"

# A freestanding 32-bit multiboot kernel (QEMU's loader takes no 64-bit
# ELF): no libc or libgcc (so no 64-bit division), no PIC, no SSE.
CFLAGS = (
    "-m32", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
    "-ffreestanding", "-fno-builtin", "-fno-pic", "-fno-pie", "-fno-stack-protector",
    "-fcf-protection=none", "-fno-asynchronous-unwind-tables", "-mgeneral-regs-only",
)
LDFLAGS = ("-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noexecstack")


def baremetal_dir() -> Path:
    path = paths.cache_dir() / "baremetal"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sources() -> list[Path]:
    return sorted(p for p in GUEST_DIR.iterdir() if p.suffix in SOURCE_SUFFIXES)


def build_key(gcc: str) -> str:
    return gccbuild.build_key((compiler_version(gcc), " ".join(CFLAGS + LDFLAGS)), sources())


def _compile(gcc: str, out: Path) -> None:
    inputs = [str(p) for p in sources() if p.suffix in (".c", ".S")]
    cmd = [gcc, *CFLAGS, f"-I{GUEST_DIR}", *LDFLAGS, f"-Wl,-T,{GUEST_DIR / LINKER_SCRIPT}",
           "-o", str(out / ELF_NAME), *inputs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        lines = [line for line in proc.stderr.splitlines() if "error" in line] or \
            proc.stderr.splitlines() or ["no output"]
        raise LabError(f"building the PMU test kernel failed: {lines[0]}")


def build() -> Path:
    """The kernel ELF for the current sources, built only if missing."""
    gcc = require("gcc", "gcc")
    return gccbuild.build_once(baremetal_dir() / f"build-{build_key(gcc)}", ELF_NAME,
                               lambda out: _compile(gcc, out), "PMU test kernel")
