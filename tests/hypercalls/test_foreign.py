"""Reading a PV domain's frames by mfn: batches mapped, copied and unmapped, errors per frame."""

import errno
import mmap
import struct

import pytest

from xenrr.errors import HypercallError
from xenrr.hypercalls import foreign
from xenrr.hypercalls.abi import ffi
from xenrr.hypercalls.errors import NoSuchDomainError, raise_for
from xenrr.hypercalls.foreign import BATCH, IOCTL_PRIVCMD_MMAPBATCH_V2, read_frames
from xenrr.hypercalls.privcmd import PAGE


def test_the_ioctl_number_is_linuxs():
    # _IOC(_IOC_NONE, 'P', 4, sizeof(struct privcmd_mmapbatch_v2)) of privcmd.h
    assert IOCTL_PRIVCMD_MMAPBATCH_V2 == 0x00205004


def contents(mfn: int) -> bytes:
    return struct.pack("<Q", mfn) * (PAGE // 8)


class MapXen:
    """Linux's MMAPBATCH_V2 over Xen's PV mapping, in a privcmd's place: each frame's
    page holds its mfn over and over; the mfns in `errors` fail with that errno (ENOENT
    also fails the ioctl, as Linux does); `refuse` fails the ioctl itself."""

    fd = -1

    def __init__(self, errors=None, refuse=0):
        self.errors = errors or {}
        self.refuse = refuse
        self.batches = []   # (dom, num, addr)

    def ioctl(self, request, arg, *, what, meanings=None):
        assert request == IOCTL_PRIVCMD_MMAPBATCH_V2
        self.batches.append((arg.dom, arg.num, arg.addr))
        if self.refuse:
            raise_for(self.refuse, what, meanings)
        paged_out = False
        for i in range(arg.num):
            mfn = arg.arr[i]
            if mfn in self.errors:
                arg.err[i] = -self.errors[mfn]
                paged_out |= self.errors[mfn] == errno.ENOENT
            else:
                ffi.memmove(ffi.cast("char *", arg.addr + i * PAGE), contents(mfn), PAGE)
        if paged_out:
            raise_for(errno.ENOENT, what, meanings)
        return 0


@pytest.fixture
def maps(monkeypatch):
    """Each mapping read_frames makes, and its length: anonymous memory the double
    can write."""
    made, real_mmap = [], mmap.mmap

    def anonymous(fd, length, flags, prot):
        assert (fd, flags, prot) == (-1, mmap.MAP_SHARED, mmap.PROT_READ)
        made.append((length, real_mmap(-1, length)))
        return made[-1][1]

    monkeypatch.setattr(foreign.mmap, "mmap", anonymous)
    return made


def test_frames_come_in_order_a_batch_mapped_at_a_time(maps):
    mfns = range(0x30000, 0x30000 + 2 * BATCH + 100)
    xen = MapXen()
    frames = read_frames(xen, 9, mfns)
    assert next(frames) == contents(0x30000)
    # One batch mapped so far, and unmapped already: its frames were copied.
    assert len(xen.batches) == 1 and maps[0][1].closed
    assert list(frames) == [contents(mfn) for mfn in mfns[1:]]
    assert [(dom, num) for dom, num, _ in xen.batches] == [(9, BATCH), (9, BATCH), (9, 100)]
    assert [length for length, _ in maps] == [BATCH * PAGE, BATCH * PAGE, 100 * PAGE]
    assert all(m.closed for _, m in maps)


def test_the_first_frame_xen_does_not_map_is_named_with_its_errno(maps):
    xen = MapXen(errors={0x1005: errno.EBUSY, 0x1007: errno.EPERM})
    with pytest.raises(HypercallError) as refused:
        list(read_frames(xen, 9, range(0x1000, 0x1010)))
    assert str(refused.value) == "frame 0x1005 of domain 9: not a frame of the domain"
    assert refused.value.errno == errno.EBUSY
    assert maps[0][1].closed


def test_a_frame_linux_reports_by_enoent_is_named_too(maps):
    xen = MapXen(errors={0x1003: errno.ENOENT})
    with pytest.raises(HypercallError, match=r"^frame 0x1003 of domain 9: Xen refused "
                                             r"\(ENOENT: No such file or directory\)$"):
        list(read_frames(xen, 9, range(0x1000, 0x1010)))


def test_an_errno_the_domctl_gives_its_own_meaning_is_named_as_is(maps):
    xen = MapXen(errors={0x1000: errno.EACCES})
    with pytest.raises(HypercallError, match=r"^frame 0x1000 of domain 9: Xen refused "
                                             r"\(EACCES: Permission denied\)$"):
        list(read_frames(xen, 9, [0x1000]))


def test_a_refused_batch_is_the_ioctls_error(maps):
    with pytest.raises(NoSuchDomainError, match="^map frames of domain 9: no such domain$"):
        list(read_frames(MapXen(refuse=errno.ESRCH), 9, [0x1000]))
    assert maps[0][1].closed
