"""The digest of a vCPU's general registers at a position (crew_event's `registers`).

Count, rip and rcx name a point of a vCPU's run; a replay that reaches the
same point with other register contents has already diverged, perhaps long
before the count shows it. Xen takes this digest where it logs a position
and, replaying, where the vCPU reaches it again; the C it runs is rendered
from these definitions (cheader: XENRR_REGS_DIGEST and its constants), and
xenrr recomputes the digest from a vCPU context to say what Xen found.

FNV-1a (64-bit) over each register's 8 little-endian bytes, in REGISTERS
order. Of rflags only the status flags and DF count: the rest is Xen's (IF
and IOPL of a PV guest are virtual) or replay's own (TF, RF while it
single-steps). 0 stands for "no digest taken" (a position never reached).
"""

from collections.abc import Mapping

REGISTERS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags")
RFLAGS_KEPT = 0xCD5          # CF, PF, AF, ZF, SF, DF, OF
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
NO_DIGEST = 0
MASK64 = (1 << 64) - 1


def register_digest(registers: Mapping[str, int]) -> int:
    """The digest of the registers named in REGISTERS (any mapping or object with them by key)."""
    h = FNV_OFFSET
    for name in REGISTERS:
        value = registers[name] & (RFLAGS_KEPT if name == "rflags" else MASK64)
        for byte in value.to_bytes(8, "little"):
            h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h
