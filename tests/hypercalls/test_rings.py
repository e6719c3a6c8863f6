"""What dom0 needs to reach a log ring: the structs and ioctls Linux defines, get_ring."""

import errno
import mmap
import os
import struct

import pytest

from tests.hypercalls.test_rr import DOMCTL
from xenrr.hypercalls import resource
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.errors import DomainStateError, raise_for
from xenrr.hypercalls.evtchn import IOCTL_EVTCHN_BIND_INTERDOMAIN, EventChannels
from xenrr.hypercalls.privcmd import HypercallBuffer
from xenrr.hypercalls.resource import IOCTL_PRIVCMD_MMAP_RESOURCE, ResourceMapping
from xenrr.hypercalls.rr import RingInfo, RrControl


def test_the_ioctl_numbers_are_linuxs():
    # _IOC(_IOC_NONE, 'P', 7, sizeof(struct privcmd_mmap_resource)) of privcmd.h
    assert IOCTL_PRIVCMD_MMAP_RESOURCE == 0x00205007
    # _IOC(_IOC_NONE, 'E', 1, sizeof(struct ioctl_evtchn_bind_interdomain)) of evtchn.h
    assert IOCTL_EVTCHN_BIND_INTERDOMAIN == 0x00084501


def test_the_struct_layouts():
    assert ffi.sizeof("struct privcmd_mmap_resource") == 32
    assert [ffi.offsetof("struct privcmd_mmap_resource", f)
            for f in ("dom", "type", "id", "idx", "num", "addr")] == [0, 4, 8, 12, 16, 24]
    assert ffi.sizeof("struct ioctl_evtchn_bind_interdomain") == 8
    assert ffi.sizeof("struct xen_rr_ring_header") == 24
    assert ffi.sizeof("struct xen_rr_ring_info") == 16


class FakePrivcmd:
    """The ioctl's request as Linux would see it; the mapping is anonymous memory."""

    fd = -1

    def __init__(self):
        self.requests = []

    def ioctl(self, request, arg, *, what, meanings=None):
        self.requests.append((request, bytes(ffi.buffer(arg)), what))
        return 0


def test_a_resource_is_mapped_where_the_ioctl_says(monkeypatch):
    maps, real_mmap = [], mmap.mmap

    def anonymous(fd, length, flags, prot):
        assert (fd, flags, prot) == (-1, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        maps.append(real_mmap(-1, length))
        return maps[-1]

    monkeypatch.setattr(resource.mmap, "mmap", anonymous)
    privcmd = FakePrivcmd()
    with ResourceMapping(privcmd, 7, lib.XENMEM_resource_rr_ring, 1, 3, what="ring") as m:
        assert len(m.buffer) == 3 * 4096
        (request, raw, what), = privcmd.requests
        address = int(ffi.cast("uintptr_t", ffi.from_buffer(m.buffer)))
    assert request == IOCTL_PRIVCMD_MMAP_RESOURCE and what == "ring"
    # dom u16, pad, type u32, id u32, idx u32, num u64, addr u64
    assert struct.unpack("<H2xIIIQQ", raw) == (7, 3, 1, 0, 3, address)
    assert maps[0].closed


def test_fired_ports_are_read_and_unmasked_by_writing_them_back(tmp_path):
    fifo = tmp_path / "evtchn"
    os.mkfifo(fifo)
    with EventChannels(str(fifo)) as events:
        assert events.pending() == []
        writer = os.open(fifo, os.O_WRONLY)
        os.write(writer, struct.pack("=III", 5, 9, 5))
        assert events.pending() == [5, 9, 5]
        events.unmask(9)
        assert events.pending() == [9]   # what the driver would read as an unmask
        os.close(writer)


class RingXen:
    """Answers get_ring as Xen would for a domain of 2 vCPUs recorded with CREW; for
    other vCPUs as Xen does for a domain not recorded with CREW."""

    def __init__(self):
        self.buffer = HypercallBuffer()

    def hypercall(self, op, addr, *, what, meanings=None):
        d = self.buffer.view("struct xen_domctl")
        assert (op, d.cmd, d.u.rr_op.op) == (DOMCTL, lib.XEN_DOMCTL_rr_op,
                                             lib.XEN_DOMCTL_RR_OP_get_ring)
        if d.u.rr_op.u.ring.vcpu > 1:
            raise_for(errno.EOPNOTSUPP, what, meanings)
        d.u.rr_op.u.ring.frames = 5
        d.u.rr_op.u.ring.evtchn = 33
        return 0


def test_get_ring_answers_frames_and_port():
    rr = RrControl(RingXen())
    assert rr.ring(7, 1) == RingInfo(frames=5, evtchn=33)
    with pytest.raises(DomainStateError, match="^log ring of domain 7 vCPU 2: the domain is "
                                               "not recorded with CREW"):
        rr.ring(7, 2)
