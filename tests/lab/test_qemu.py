"""Reading the serial console for the lines that mean the machine is going down."""

import pytest

from xenrr.lab.qemu import Qemu


def qemu_with_serial(tmp_path, text: str) -> Qemu:
    serial = tmp_path / "serial.log"
    serial.write_text(text)
    return Qemu(xen=tmp_path / "xen", dom0=None, share=tmp_path, cache=tmp_path, serial=serial)


@pytest.mark.parametrize("line", [
    "(XEN) Panic on CPU 1:",
    "(XEN) Xen BUG at arch/x86/mm/shadow/multi.c:123",
    "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.",
    "[   12.3] Kernel panic - not syncing: sysrq triggered crash",
    "xenrr-lab: dom0 stage2: xenstored did not start",
])
def test_a_crash_line_is_found(tmp_path, line):
    qemu = qemu_with_serial(tmp_path, f"(XEN) booting\r\n{line}\r\nmore\r\n")
    assert qemu.crash_line() == line


def test_a_healthy_log_has_no_crash_line(tmp_path):
    qemu = qemu_with_serial(tmp_path, "(XEN) Xen version 4.17.5-xenrr\n(d1) Panic-free\n")
    assert qemu.crash_line() is None


def test_the_serial_tail_drops_carriage_returns(tmp_path):
    qemu = qemu_with_serial(tmp_path, "".join(f"line {i}\r\n" for i in range(100)))
    assert qemu.serial_tail(3) == "line 97\nline 98\nline 99"
