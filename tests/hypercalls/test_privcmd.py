"""Hypercall buffers where /dev/xen/hypercall is missing: locked anonymous memory."""

import errno
import mmap
import os

import pytest

from xenrr.hypercalls import privcmd
from xenrr.hypercalls.privcmd import IOCTL_PRIVCMD_HYPERCALL, PAGE, HypercallBuffer


def test_the_hypercall_ioctl_number_is_linuxs():
    # include/uapi/xen/privcmd.h: _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))
    assert IOCTL_PRIVCMD_HYPERCALL == 0x305000


@pytest.mark.skipif(os.path.exists(privcmd.HYPERCALL_BUFFERS), reason="a Xen dom0")
def test_without_the_device_a_locked_page_is_used():
    buf = HypercallBuffer()
    assert buf.addr % PAGE == 0
    view = buf.view("struct xen_domctl")
    view.cmd = 87
    view.domain = 5
    assert bytes(buf._map[:4]) == (87).to_bytes(4, "little")
    buf.clear()
    assert view.cmd == 0 and view.domain == 0
    assert locked_kb() >= PAGE // 1024


def locked_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmLck:"))


@pytest.mark.skipif(os.path.exists(privcmd.HYPERCALL_BUFFERS), reason="a Xen dom0")
def test_a_buffer_of_several_pages_is_locked_and_cleared_whole():
    before = locked_kb()
    buf = HypercallBuffer(pages=3)
    assert buf.size == 3 * PAGE and buf.addr % PAGE == 0
    assert locked_kb() - before >= 3 * PAGE // 1024
    last = buf.view("uint8_t")
    last[3 * PAGE - 1] = 0xAA
    buf.clear()
    assert last[3 * PAGE - 1] == 0


def test_a_size_the_device_refuses_is_locked_anonymous_memory(monkeypatch, tmp_path):
    """privcmd-buf gives one open file 64 pages: bigger buffers (a domain's frame list)
    come from anonymous memory even in a dom0 that has the device."""
    device = tmp_path / "hypercall"
    device.write_bytes(b"")
    monkeypatch.setattr(privcmd, "HYPERCALL_BUFFERS", str(device))
    real_mmap = mmap.mmap

    def refusing(fd, length, *args, **kwargs):
        if fd != -1:
            raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
        return real_mmap(fd, length, *args, **kwargs)

    monkeypatch.setattr(privcmd.mmap, "mmap", refusing)
    before = locked_kb()
    buf = HypercallBuffer(pages=65)
    assert buf.size == 65 * PAGE
    assert locked_kb() - before >= 65 * PAGE // 1024
