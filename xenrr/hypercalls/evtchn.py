"""/dev/xen/evtchn: event channels from dom0, so that Xen can wake the recorder.

Linux's evtchn driver: a bound port that fires is masked and queued; read()
gives the fired ports (4 bytes each), write() of a port unmasks it again.
Closing the device unbinds every port bound through it.
"""

import fcntl
import os
import struct

from xenrr.hypercalls.abi import ffi
from xenrr.hypercalls.errors import NoXenError, NotPrivilegedError, raise_for
from xenrr.hypercalls.privcmd import ioc_none

EVTCHN = "/dev/xen/evtchn"
IOCTL_EVTCHN_BIND_INTERDOMAIN = ioc_none(
    "E", 1, ffi.sizeof("struct ioctl_evtchn_bind_interdomain"))
_PORT = struct.Struct("=I")
_MAX_READ = 64 * _PORT.size


class EventChannels:
    """An open evtchn device (non-blocking: wait on fileno() with select or poll)."""

    def __init__(self, path: str = EVTCHN):
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            raise NoXenError(f"no Xen event channel device ({path}): this is not a Xen dom0 "
                             "(or the xen-evtchn module is not loaded)") from None
        except PermissionError:
            raise NotPrivilegedError(f"permission denied opening {path}: run xenrr as "
                                     "root in dom0") from None

    def fileno(self) -> int:
        return self.fd

    def bind_interdomain(self, domid: int, remote_port: int) -> int:
        """Bind remote_port of domain domid to a new local port; the local port."""
        request = ffi.new("struct ioctl_evtchn_bind_interdomain *")
        request.remote_domain = domid
        request.remote_port = remote_port
        try:
            return fcntl.ioctl(self.fd, IOCTL_EVTCHN_BIND_INTERDOMAIN,
                               bytearray(ffi.buffer(request)))
        except OSError as e:
            raise_for(e.errno, f"bind port {remote_port} of domain {domid}")

    def pending(self) -> list[int]:
        """The local ports that fired since the last call (each stays masked until unmask)."""
        ports = []
        while True:
            try:
                data = os.read(self.fd, _MAX_READ)
            except BlockingIOError:
                return ports
            if not data:
                return ports
            ports += [p for (p,) in _PORT.iter_unpack(data)]

    def unmask(self, port: int) -> None:
        os.write(self.fd, _PORT.pack(port))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "EventChannels":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
