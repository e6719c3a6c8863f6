"""A PV domain's frames read from dom0 by machine frame number: IOCTL_PRIVCMD_MMAPBATCH_V2.

A PV guest names its memory by mfn (Linux's gfn for a PV domain), so its
frames are read by those numbers, e.g. as get_frames lists them. Linux
maps a batch of them behind a read-only mapping of the privcmd device and
says for each whether Xen mapped it; each batch is copied and unmapped
before the next, so dom0 holds few foreign frames at a time.
"""

import errno
import mmap
from collections.abc import Iterator, Sequence

from xenrr.errors import HypercallError
from xenrr.hypercalls.abi import ffi
from xenrr.hypercalls.errors import raise_for
from xenrr.hypercalls.privcmd import PAGE, Privcmd, ioc_none

IOCTL_PRIVCMD_MMAPBATCH_V2 = ioc_none("P", 4, ffi.sizeof("struct privcmd_mmapbatch_v2"))

# Frames mapped at once: 4 MiB of dom0's address space.
BATCH = 1024

# What Xen's PV mapping (get_page_from_l1e) means by a frame's errno.
FRAME = {
    errno.EBUSY: (HypercallError, "not a frame of the domain"),
    errno.EPERM: (HypercallError, "not a frame of memory (I/O space the domain may not map)"),
    errno.EACCES: (HypercallError, None),   # not the domctl's interface version: named as is
}


def read_frames(privcmd: Privcmd, domid: int, mfns: Sequence[int]) -> Iterator[bytes]:
    """The contents of frames `mfns` of domain `domid`, a page of bytes each, in order.

    A frame Xen does not map raises, naming the first such mfn of its batch
    and Xen's errno; no frame of that batch is yielded.
    """
    for start in range(0, len(mfns), BATCH):
        yield from _read_batch(privcmd, domid, mfns[start:start + BATCH])


def _read_batch(privcmd: Privcmd, domid: int, mfns: Sequence[int]) -> list[bytes]:
    n = len(mfns)
    arr = ffi.new("uint64_t[]", n)
    arr[0:n] = mfns
    err = ffi.new("int[]", n)
    mapping = mmap.mmap(privcmd.fd, n * PAGE, mmap.MAP_SHARED, mmap.PROT_READ)
    try:
        address = ffi.from_buffer(mapping)
        request = ffi.new("struct privcmd_mmapbatch_v2 *")
        request.num = n
        request.dom = domid
        request.addr = int(ffi.cast("uintptr_t", address))
        request.arr = arr
        request.err = err
        ffi.release(address)
        try:
            privcmd.ioctl(IOCTL_PRIVCMD_MMAPBATCH_V2, request,
                          what=f"map frames of domain {domid}")
        except HypercallError as e:
            # ENOENT: the batch was done, and a frame failed with ENOENT (err says which).
            if getattr(e, "errno", None) != errno.ENOENT:
                raise
        for mfn, code in zip(mfns, err):
            if code:
                raise_for(-code, f"frame {mfn:#x} of domain {domid}", FRAME)
        return [mapping[i * PAGE:(i + 1) * PAGE] for i in range(n)]
    finally:
        mapping.close()
