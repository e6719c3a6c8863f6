"""Guest resources mapped into dom0: IOCTL_PRIVCMD_MMAP_RESOURCE (XENMEM_acquire_resource).

How dom0 reaches pages Xen owns on behalf of a domain, such as the log rings
of a recorded domain (XENMEM_resource_rr_ring, one resource per vCPU): Linux
wants a shared mapping of the privcmd device first, then the ioctl asks Xen
to put the resource's frames behind it.
"""

import mmap

from xenrr.hypercalls.abi import ffi
from xenrr.hypercalls.privcmd import PAGE, Privcmd, ioc_none

IOCTL_PRIVCMD_MMAP_RESOURCE = ioc_none("P", 7, ffi.sizeof("struct privcmd_mmap_resource"))


class ResourceMapping:
    """Frames 0..frames-1 of resource (type, id) of a domain, mapped read-write.

    `buffer` is the mapping (an mmap); views of it must be released before
    close, which unmaps (and so gives the frames back to Xen).
    """

    def __init__(self, privcmd: Privcmd, domid: int, rtype: int, rid: int, frames: int,
                 *, what: str, meanings=None):
        self.buffer = mmap.mmap(privcmd.fd, frames * PAGE, mmap.MAP_SHARED,
                                mmap.PROT_READ | mmap.PROT_WRITE)
        try:
            address = ffi.from_buffer(self.buffer)
            request = ffi.new("struct privcmd_mmap_resource *")
            request.dom = domid
            request.type = rtype
            request.id = rid
            request.idx = 0
            request.num = frames
            request.addr = int(ffi.cast("uintptr_t", address))
            ffi.release(address)
            privcmd.ioctl(IOCTL_PRIVCMD_MMAP_RESOURCE, request, what=what, meanings=meanings)
        except BaseException:
            self.buffer.close()
            raise

    def close(self) -> None:
        self.buffer.close()

    def __enter__(self) -> "ResourceMapping":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
