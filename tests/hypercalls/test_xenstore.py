"""The xenstore client's framing: replies, errors and watch events, however they arrive.

The other end of a socket pair plays xenstored's part of the wire protocol
(xs_wire.h): it checks the bytes of each request and answers with bytes
spelled out here, split or run together as a byte stream may deliver them.
"""

import os
import socket
import struct

import pytest

from xenrr.errors import HypercallError
from xenrr.hypercalls.xenstore import WatchEvent, Xenstore, XenstoreError

XS_DIRECTORY, XS_READ, XS_WATCH, XS_WATCH_EVENT, XS_ERROR, XS_IS_DOMAIN_INTRODUCED = (
    1, 2, 4, 15, 16, 17)


def message(kind: int, req: int, payload: bytes) -> bytes:
    # type, request id, transaction id (0: none), payload length; native u32 each
    return struct.pack("=IIII", kind, req, 0, len(payload)) + payload


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    xs = Xenstore(os.dup(ours.fileno()))
    ours.close()
    yield xs, theirs
    xs.close()
    theirs.close()


def request(theirs) -> bytes:
    header = theirs.recv(16)
    length = struct.unpack("=IIII", header)[3]
    return header + theirs.recv(length)


def test_a_read_sends_the_path_and_returns_the_value(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_READ, 1, b"guest"))
    assert xs.read("/local/domain/3/name") == "guest"
    assert request(theirs) == message(XS_READ, 1, b"/local/domain/3/name\0")


def test_an_error_reply_names_the_errno(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_ERROR, 1, b"ENOENT\0"))
    with pytest.raises(XenstoreError, match="xenstore /vm/x: ENOENT") as e:
        xs.read("/vm/x")
    assert e.value.name == "ENOENT"


def test_a_watch_sends_path_and_token(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_WATCH, 1, b"OK\0"))
    xs.watch("@introduceDomain", "intro")
    assert request(theirs) == message(XS_WATCH, 1, b"@introduceDomain\0intro\0")


def test_an_event_before_a_reply_waits_for_next_event(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_WATCH_EVENT, 0, b"/local/domain/7\0dom\0")
                   + message(XS_DIRECTORY, 1, b"0\x007\0"))
    assert xs.directory("/local/domain") == ["0", "7"]
    assert xs.next_event(0) == WatchEvent("/local/domain/7", "dom")
    assert xs.next_event(0) is None


def test_an_event_right_behind_a_reply_is_kept(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_IS_DOMAIN_INTRODUCED, 1, b"F\0")
                   + message(XS_WATCH_EVENT, 0, b"@introduceDomain\0intro\0"))
    assert xs.is_introduced(7) is False
    assert request(theirs) == message(XS_IS_DOMAIN_INTRODUCED, 1, b"7\0")
    assert xs.next_event(0) == WatchEvent("@introduceDomain", "intro")


def test_messages_split_anywhere_are_put_back_together(pair):
    xs, theirs = pair
    stream = message(XS_WATCH_EVENT, 0, b"/local/domain/7/vm\0dom\0")
    for i in range(len(stream)):
        theirs.sendall(stream[i:i + 1])
        got = xs.next_event(0)
        assert got == (None if i < len(stream) - 1 else WatchEvent("/local/domain/7/vm", "dom"))


def test_is_introduced_reads_t(pair):
    xs, theirs = pair
    theirs.sendall(message(XS_IS_DOMAIN_INTRODUCED, 1, b"T\0"))
    assert xs.is_introduced(7) is True


def test_a_closed_connection_is_one_error(pair):
    xs, theirs = pair
    theirs.shutdown(socket.SHUT_WR)
    with pytest.raises(HypercallError, match="xenstore closed the connection"):
        xs.next_event(1)
