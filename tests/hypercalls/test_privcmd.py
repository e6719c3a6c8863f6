"""Hypercall buffers where /dev/xen/hypercall is missing: locked anonymous memory."""

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
    with open("/proc/self/status") as status:
        locked_kb = next(int(line.split()[1]) for line in status if line.startswith("VmLck:"))
    assert locked_kb >= PAGE // 1024
