"""The branches workload's code, read back from the built guest.

A lab test counts the conditional branches Xen sees between the two stores
of the branches workload (micro_branches_before, micro_branches_after);
that count is `iterations` only if the code between the two labels is the
store, the one-branch loop and nothing else.
"""

import re
import subprocess

from xenrr.lab.micro import report


def _symbols(elf) -> dict[str, tuple[str, int]]:
    out = subprocess.run(["nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {name: (kind, int(addr, 16))
            for addr, kind, name in (line.split() for line in out.splitlines()
                                     if len(line.split()) == 3)}


def _instructions(elf, start: int, stop: int) -> list[tuple[int, str]]:
    """(address, instruction text) from objdump for [start, stop)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn",
                          f"--start-address={start:#x}", f"--stop-address={stop:#x}",
                          str(elf)], capture_output=True, text=True, check=True).stdout
    return [(int(m[1], 16), " ".join(m[2].split()))
            for m in re.finditer(r"^\s*([0-9a-f]+):\s+(.*)$", out, re.M)]


def test_the_two_stores_are_global_labels_with_only_the_loop_between(built_elf):
    symbols = _symbols(built_elf)
    kind_before, before = symbols["micro_branches_before"]
    kind_after, after = symbols["micro_branches_after"]
    assert (kind_before, kind_after) == ("T", "T")
    # Everything from the first store up to and including the second.
    insns = [(a, i) for a, i in _instructions(built_elf, before, after + 16) if a <= after]
    (a0, store), (a1, dec), (a2, jnz), (a3, last) = insns
    assert (a0, a3) == (before, after)
    assert re.fullmatch(r"mov %r\w+,\(%r\w+\)", store)
    assert dec == "dec %rcx"
    assert re.fullmatch(rf"jne {a1:x} <micro_branches_before\+0x{a1 - before:x}>", jnz)
    assert re.fullmatch(r"mov %r\w+,\(%r\w+\)", last)
    assert store.split(",")[0] == last.split(",")[0], "both stores write the same value"


def test_a_branches_run_s_pages_and_rips_read_back_from_its_console():
    rep = report.parse(
        "micro: workload name=branches vcpus=2 iterations=100000\n"
        "micro: page region=before vcpu=0 index=0 gfn=0x122 mfn=0x2c322 va=0x122000\n"
        "micro: page region=before vcpu=1 index=0 gfn=0x123 mfn=0x2c323 va=0x123000\n"
        "micro: page region=after vcpu=0 index=0 gfn=0x11e mfn=0x2c31e va=0x11e000\n"
        "micro: page region=after vcpu=1 index=0 gfn=0x11f mfn=0x2c31f va=0x11f000\n"
        "micro: result branches=100000 before_rip=0x102153 after_rip=0x10215b\n"
        "micro: PASS\n")
    pages = {(p.region, p.vcpu): p.mfn for p in rep.pages}
    assert pages[("before", 1)] == 0x2c323 and pages[("after", 1)] == 0x2c31f
    assert rep.result == {"branches": "100000", "before_rip": "0x102153",
                          "after_rip": "0x10215b"}
