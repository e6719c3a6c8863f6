"""A minimal xenstore client over /dev/xen/xenbus: read, list, watch.

xenrr needs xenstore to turn domain names into ids and, for the libvirt
hook, to see a domain appear the moment the toolstack creates it, so it
speaks the wire protocol (xen/include/public/io/xs_wire.h) directly rather
than depending on a binding: a message is (type, request id, transaction
id, length) as four native u32 followed by the payload. Once a watch is
set, xenstore sends XS_WATCH_EVENT messages (payload "path\\0token\\0") at any
time, also between a request and its reply, so every message read goes
through one buffer and events wait in a queue until asked for.
"""

import collections
import os
import select
import struct
from typing import NamedTuple

from xenrr.errors import HypercallError
from xenrr.hypercalls.errors import NoXenError

XENBUS = "/dev/xen/xenbus"
XS_DIRECTORY, XS_READ, XS_WATCH = 1, 2, 4
XS_WATCH_EVENT, XS_ERROR, XS_IS_DOMAIN_INTRODUCED = 15, 16, 17
_HEADER = struct.Struct("=IIII")


class XenstoreError(HypercallError):
    """xenstore refused a request (its payload names the errno, e.g. ENOENT)."""

    def __init__(self, path: str, name: str):
        super().__init__(f"xenstore {path}: {name}")
        self.name = name


class WatchEvent(NamedTuple):
    path: str    # the node that changed (or the special @introduceDomain, @releaseDomain)
    token: str   # the token the watch was set with


class Xenstore:
    def __init__(self, fd: int | None = None):
        """Connect through /dev/xen/xenbus, or over `fd` (a connected socket: tests)."""
        if fd is None:
            try:
                fd = os.open(XENBUS, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                raise NoXenError(f"no xenstore device ({XENBUS}): this is not a Xen dom0") from None
            except PermissionError:
                raise HypercallError(f"permission denied opening {XENBUS}: run as root") from None
        self.fd = fd
        self._req = 0
        self._buffer = b""
        self._events: collections.deque[WatchEvent] = collections.deque()

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Xenstore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _buffered_message(self) -> tuple[int, bytes] | None:
        """The first whole message in the buffer (type, payload), taken out of it."""
        if len(self._buffer) < _HEADER.size:
            return None
        rtype, _, _, length = _HEADER.unpack_from(self._buffer)
        end = _HEADER.size + length
        if len(self._buffer) < end:
            return None
        body, self._buffer = self._buffer[_HEADER.size:end], self._buffer[end:]
        return rtype, body

    def _next_message(self, what: str) -> tuple[int, bytes]:
        while (message := self._buffered_message()) is None:
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise HypercallError(f"xenstore closed the connection ({what})")
            self._buffer += chunk
        return message

    def _queue_event(self, body: bytes) -> None:
        path, token = (body.split(b"\0") + [b"", b""])[:2]
        self._events.append(WatchEvent(path.decode(), token.decode()))

    def _request(self, kind: int, *args: str) -> bytes:
        self._req += 1
        payload = b"".join(a.encode() + b"\0" for a in args)
        os.write(self.fd, _HEADER.pack(kind, self._req, 0, len(payload)) + payload)
        while True:
            rtype, body = self._next_message(f"waiting for the reply about {args[0]}")
            if rtype != XS_WATCH_EVENT:
                break
            self._queue_event(body)
        if rtype == XS_ERROR:
            raise XenstoreError(args[0], body.rstrip(b"\0").decode())
        return body

    def read(self, path: str) -> str:
        return self._request(XS_READ, path).decode()

    def directory(self, path: str) -> list[str]:
        return [n.decode() for n in self._request(XS_DIRECTORY, path).split(b"\0") if n]

    def watch(self, path: str, token: str) -> None:
        """Be told of every change at or under path (xenstore also fires it once now)."""
        self._request(XS_WATCH, path, token)

    def is_introduced(self, domid: int) -> bool:
        """Whether the toolstack has introduced the domain to xenstore (its build is done)."""
        return self._request(XS_IS_DOMAIN_INTRODUCED, str(domid)).rstrip(b"\0") == b"T"

    def next_event(self, timeout: float) -> WatchEvent | None:
        """The next watch event, waiting up to timeout seconds; None if none came."""
        while not self._events:
            message = self._buffered_message()
            if message is None:
                if not select.select([self.fd], [], [], timeout)[0]:
                    return None
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    raise HypercallError("xenstore closed the connection (waiting for a watch)")
                self._buffer += chunk
                continue
            rtype, body = message
            if rtype == XS_WATCH_EVENT:
                self._queue_event(body)
        return self._events.popleft()
