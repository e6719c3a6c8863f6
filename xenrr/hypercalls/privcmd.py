"""/dev/xen/privcmd: the Linux driver through which dom0 makes hypercalls.

A hypercall's arguments that point to memory must point to memory Linux will
not move or swap while Xen reads it: buffers come from /dev/xen/hypercall
(Linux 4.18+), else from anonymous memory locked with mlock and kept out of
fork children (what libxencall does).
"""

import errno
import fcntl
import mmap
import os

from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.errors import NoXenError, NotPrivilegedError, raise_for

PRIVCMD = "/dev/xen/privcmd"
HYPERCALL_BUFFERS = "/dev/xen/hypercall"
PAGE = mmap.PAGESIZE


def ioc_none(kind: str, nr: int, size: int) -> int:
    """Linux's _IOC(_IOC_NONE, kind, nr, size), as privcmd.h and evtchn.h define their ioctls."""
    return (size << 16) | (ord(kind) << 8) | nr


IOCTL_PRIVCMD_HYPERCALL = ioc_none("P", 0, ffi.sizeof("struct privcmd_hypercall"))


class HypercallBuffer:
    """`pages` pages of hypercall-safe memory; `addr` is what goes into an argument.

    /dev/xen/hypercall gives one open file 64 pages at most (the `limit` of
    Linux's privcmd-buf): a bigger buffer, such as a domain's frame list,
    is locked anonymous memory even where the device exists.
    """

    def __init__(self, pages: int = 1):
        self.size = pages * PAGE
        self._map = self._device_pages()
        locked = self._map is None
        if locked:
            self._map = mmap.mmap(-1, self.size)
            self._map.madvise(mmap.MADV_DONTFORK)
        self._cdata = ffi.from_buffer(self._map)
        self.addr = int(ffi.cast("uintptr_t", self._cdata))
        if locked and lib.mlock(ffi.cast("void *", self.addr), self.size) != 0:
            raise NotPrivilegedError(f"cannot lock a hypercall buffer in memory: "
                                     f"{os.strerror(ffi.errno)}")

    def _device_pages(self) -> mmap.mmap | None:
        """The buffer from /dev/xen/hypercall; None where there is none or it refuses the size."""
        try:
            fd = os.open(HYPERCALL_BUFFERS, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return mmap.mmap(fd, self.size)
        except OSError:
            return None
        finally:
            os.close(fd)

    def view(self, ctype: str):
        """The buffer seen as a pointer to ctype (the struct a hypercall reads)."""
        return ffi.cast(ctype + " *", self._cdata)

    def clear(self) -> None:
        self._map[:] = bytes(self.size)


class Privcmd:
    """An open privcmd device; closes with the object or a `with` block."""

    def __init__(self):
        try:
            self.fd = os.open(PRIVCMD, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NoXenError(f"no Xen privcmd device ({PRIVCMD}): this is not a Xen dom0 "
                             "(or the xen-privcmd module is not loaded)") from None
        except PermissionError:
            raise NotPrivilegedError(f"permission denied opening {PRIVCMD}: run xenrr as "
                                     "root in dom0") from None
        self.buffer = HypercallBuffer()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "Privcmd":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def hypercall(self, op: int, *args: int, what: str, meanings=None) -> int:
        """Make hypercall `op`; its non-negative result, or the mapped error."""
        call = ffi.new("struct privcmd_hypercall *")
        call.op = op
        for i, a in enumerate(args):
            call.arg[i] = a
        return self.ioctl(IOCTL_PRIVCMD_HYPERCALL, call, what=what, meanings=meanings)

    def ioctl(self, request: int, arg, *, what: str, meanings=None) -> int:
        """Issue ioctl `request` with the cffi struct `arg`; its result, or the mapped error."""
        try:
            return fcntl.ioctl(self.fd, request, bytearray(ffi.buffer(arg)))
        except OSError as e:
            if e.errno == errno.ENOTTY:
                raise NoXenError(f"{PRIVCMD} is not a Xen privcmd device") from None
            raise_for(e.errno, what, meanings)
