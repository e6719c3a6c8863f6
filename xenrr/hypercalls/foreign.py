"""A PV domain's frames read and written from dom0 by mfn: IOCTL_PRIVCMD_MMAPBATCH_V2.

A PV guest names its memory by mfn (Linux's gfn for a PV domain), so its
frames are read by those numbers, e.g. as get_frames lists them. Linux
maps a batch of them behind a mapping of the privcmd device and
says for each whether Xen mapped it; each batch is copied and unmapped
before the next, so dom0 holds few foreign frames at a time.
"""

import contextlib
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
        batch = mfns[start:start + BATCH]
        with _mapped(privcmd, domid, batch, mmap.PROT_READ) as mapping:
            frames = [mapping[i * PAGE:(i + 1) * PAGE] for i in range(len(batch))]
        yield from frames


def write_frames(privcmd: Privcmd, domid: int, mfns: Sequence[int],
                 contents: Sequence[bytes]) -> None:
    """Write contents[i], a page, into frame mfns[i] of domain `domid`.

    Xen maps only frames the domain may write itself (not its page tables,
    nor a frame it holds as a descriptor table); another raises as in
    read_frames, and no frame of that batch is written.
    """
    for start in range(0, len(mfns), BATCH):
        batch = mfns[start:start + BATCH]
        with _mapped(privcmd, domid, batch, mmap.PROT_READ | mmap.PROT_WRITE) as mapping:
            for i, data in enumerate(contents[start:start + BATCH]):
                mapping[i * PAGE:(i + 1) * PAGE] = data


@contextlib.contextmanager
def _mapped(privcmd: Privcmd, domid: int, mfns: Sequence[int], prot: int) -> Iterator[mmap.mmap]:
    """Frames `mfns` mapped in order behind one mapping of the privcmd device, with `prot`."""
    n = len(mfns)
    arr = ffi.new("uint64_t[]", n)
    arr[0:n] = mfns
    err = ffi.new("int[]", n)
    mapping = mmap.mmap(privcmd.fd, n * PAGE, mmap.MAP_SHARED, prot)
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
        yield mapping
    finally:
        mapping.close()
