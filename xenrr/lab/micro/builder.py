"""Build the micro-guest ELF with the host's gcc, cached by its inputs.

Layout under the cache (see xenrr.lab.paths.cache_dir):
  micro/build-<key>/micro.elf   one build; <key> hashes every source file in
                                guest/ (name and content), the generated
                                workloads.gen.h, the gcc version and the
                                flags, so any change in them is a new build
  micro/<domain>.cfg            the xl configs config() writes
A build goes into place whole (gccbuild.build_once).
"""

import subprocess
from pathlib import Path

from xenrr.errors import LabError
from xenrr.lab import gccbuild, paths
from xenrr.lab.gccbuild import compiler_version
from xenrr.lab.micro import elfnotes, workloads
from xenrr.lab.tools import require

GUEST_DIR = Path(__file__).resolve().with_name("guest")
SOURCE_SUFFIXES = (".c", ".h", ".S", ".lds")
GENERATED_HEADER = "workloads.gen.h"
ELF_NAME = "micro.elf"

# A freestanding 64-bit PV kernel: no libc, no PIC, no red zone (Xen pushes
# frames on the kernel stack), no SSE (the guest never sets up FPU state),
# no loop-to-memset rewriting (lib.c *is* memset).
CFLAGS = (
    "-m64", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
    "-ffreestanding", "-fno-builtin", "-fno-tree-loop-distribute-patterns",
    "-fno-pic", "-fno-pie", "-fno-stack-protector", "-fcf-protection=none",
    "-fno-asynchronous-unwind-tables", "-mno-red-zone", "-mgeneral-regs-only",
)
LDFLAGS = (
    "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noexecstack",
)
LINKER_SCRIPT = "micro.lds"


def micro_dir() -> Path:
    """The micro-guest's part of the cache (builds and xl configs)."""
    path = paths.cache_dir() / "micro"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sources() -> list[Path]:
    """Every file the build reads from guest/, in a stable order."""
    return sorted(p for p in GUEST_DIR.iterdir() if p.suffix in SOURCE_SUFFIXES)


def build_key(gcc: str) -> str:
    """The hash naming a build: compiler, flags, generated header, sources."""
    return gccbuild.build_key((compiler_version(gcc), " ".join(CFLAGS + LDFLAGS),
                               workloads.c_header()), sources())


def _gcc_error(stderr: str) -> str:
    """The line of gcc's complaint worth one line of ours."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines
              if "error:" in line or "undefined reference" in line]
    return (errors or lines or ["no output"])[0]


def _compile(gcc: str, out: Path) -> None:
    (out / GENERATED_HEADER).write_text(workloads.c_header())
    inputs = [str(p) for p in sources() if p.suffix in (".c", ".S")]
    cmd = [gcc, *CFLAGS, f"-I{out}", f"-I{GUEST_DIR}", *LDFLAGS,
           f"-Wl,-T,{GUEST_DIR / LINKER_SCRIPT}", "-o", str(out / ELF_NAME), *inputs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise LabError(f"building the micro-guest failed: {_gcc_error(proc.stderr)}")
    elfnotes.check(elfnotes.read(out / ELF_NAME))


def build() -> Path:
    """The micro-guest ELF for the current sources, built only if missing."""
    gcc = require("gcc", "gcc")
    return gccbuild.build_once(micro_dir() / f"build-{build_key(gcc)}", ELF_NAME,
                               lambda out: _compile(gcc, out), "micro-guest")
