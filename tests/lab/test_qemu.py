"""The lab's QEMU command line and what its serial console says."""

import json
from types import SimpleNamespace

import pytest

from xenrr.errors import LabError
from xenrr.lab.qemu import Qemu
from xenrr.lab.qemubuild import BINARY, QemuBuilds, QemuSpec


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


def test_the_lab_boots_its_own_qemu(tmp_path, monkeypatch):
    monkeypatch.setenv("XENRR_CACHE", str(tmp_path / "cache"))
    dom0 = SimpleNamespace(kernel=SimpleNamespace(vmlinuz="/vmlinuz"), kernel_args="console=hvc0",
                           initramfs="/initrd")
    qemu = Qemu(xen=tmp_path / "xen", dom0=dom0, share=tmp_path, cache=tmp_path,
                serial=tmp_path / "serial.log")
    with pytest.raises(LabError, match="^no lab QEMU built for this patch series "
                                       r"\([0-9a-f]{16}\): run `xenrr lab build` first$"):
        qemu.argv()
    build = QemuBuilds().path(QemuSpec.current())
    build.mkdir(parents=True)
    (build / "build.json").write_text(json.dumps({}))
    argv = qemu.argv()
    assert argv[0] == str(build / BINARY)
    assert argv[argv.index("-cpu") + 1] == "max,-smap"
