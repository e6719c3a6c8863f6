"""A minimal xenstore client over /dev/xen/xenbus (read and list, nothing else).

xenrr needs xenstore only to turn domain names into ids, so it speaks the
wire protocol (xen/include/public/io/xs_wire.h) directly rather than
depending on a binding: a message is (type, request id, transaction id,
length) as four native u32 followed by the payload.
"""

import os
import struct

from xenrr.errors import HypercallError
from xenrr.hypercalls.errors import NoXenError

XENBUS = "/dev/xen/xenbus"
XS_DIRECTORY, XS_READ, XS_ERROR = 1, 2, 16
_HEADER = struct.Struct("=IIII")


class XenstoreError(HypercallError):
    """xenstore refused a request (its payload names the errno, e.g. ENOENT)."""

    def __init__(self, path: str, name: str):
        super().__init__(f"xenstore {path}: {name}")
        self.name = name


class Xenstore:
    def __init__(self):
        try:
            self.fd = os.open(XENBUS, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NoXenError(f"no xenstore device ({XENBUS}): this is not a Xen dom0") from None
        except PermissionError:
            raise HypercallError(f"permission denied opening {XENBUS}: run as root") from None
        self._req = 0

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Xenstore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, kind: int, path: str) -> bytes:
        self._req += 1
        payload = path.encode() + b"\0"
        os.write(self.fd, _HEADER.pack(kind, self._req, 0, len(payload)) + payload)
        reply = b""
        while len(reply) < _HEADER.size or len(reply) < _HEADER.size + _HEADER.unpack_from(reply)[3]:
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise HypercallError(f"xenstore closed the connection reading {path}")
            reply += chunk
        rtype, _, _, length = _HEADER.unpack_from(reply)
        body = reply[_HEADER.size:_HEADER.size + length]
        if rtype == XS_ERROR:
            raise XenstoreError(path, body.rstrip(b"\0").decode())
        return body

    def read(self, path: str) -> str:
        return self._request(XS_READ, path).decode()

    def directory(self, path: str) -> list[str]:
        return [n.decode() for n in self._request(XS_DIRECTORY, path).split(b"\0") if n]
