"""The record loop: drain every vCPU's ring, restore Xen's order, place forced changes,
derive constraints, write.

Xen wakes the recorder through an event channel when a ring crosses a
quarter full or a vCPU starts waiting for room, and events coalesce, so the
loop also polls every POLL_SECONDS. Everything goes to stream 0 of the
trace: one stream keeps the order the checker needs (crew/history.py).

The loop ends when the domain shuts down or dies (after one more drain, so
nothing it logged is lost) or when asked to stop (SIGINT, SIGTERM: `stop`
is set): then the domain leaves rr as its life cycle says
(rrdomain/lifecycle.py), drained on the way, and the trace is closed. If
the recorder fails, recording is abandoned (disabled if Xen allows).

Forced changes wait for their positions (place.py): in SYNC_ENTRY mode
every change made to a holder that stays in the guest, in BRANCH mode only
those Xen's own accesses force.
"""

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xenrr.formats import EndReason, PositionMode, TraceWriter
from xenrr.formats import records as rec
from xenrr.formats.errors import RecordError
from xenrr.record.merge import SeqMerger
from xenrr.record.place import Placer
from xenrr.rrdomain.lifecycle import RrDomain
from xenrr.rrdomain.rings import RingProtocolError, RingReader
from xenrr.crew.constraints import ConstraintDeriver

POLL_SECONDS = 0.05
PROGRESS_SECONDS = 1.0


@dataclass(frozen=True)
class Progress:
    events_per_second: float
    trace_bytes: int
    positions: tuple[int, ...]   # per vCPU


def _decode(seq: int, rtype: int, body: bytes):
    cls = rec.BY_TYPE.get(rtype)
    if cls is None:
        raise RingProtocolError(f"seq {seq}: unknown record type {rtype:#x}")
    try:
        return cls.CODEC.decode(body, 0, len(body))
    except RecordError as e:
        raise RingProtocolError(f"seq {seq}: {e}") from None


class _Pipeline:
    """Rings -> seq order -> records, forced changes placed (constraints derived) -> the trace."""

    def __init__(self, rings: list[RingReader], writer: TraceWriter, positions: PositionMode):
        self.rings = rings
        self.writer = writer
        self.merger = SeqMerger()
        self.placer = Placer()
        self.deriver = ConstraintDeriver(position_mode=positions)
        self.entries = 0

    def drain(self) -> None:
        for ring in self.rings:
            self.merger.add(ring.drain())
        write, feed, place = self.writer.write, self.deriver.feed, self.placer.add
        for seq, rtype, body in self.merger.ready():
            for record in place(_decode(seq, rtype, body)):
                for r in feed(record) if type(record) is rec.CrewEvent else (record,):
                    write(r)
            self.entries += 1

    def finish(self) -> None:
        self.merger.finish()
        self.placer.finish()


def record(target: RrDomain, rings: list[RingReader], writer: TraceWriter, stop: threading.Event,
           progress: Callable[[Progress], None] | None = None,
           clock: Callable[[], float] = time.monotonic, *,
           positions: PositionMode,
           end_state: Callable[[EndReason], list] = lambda reason: []) -> EndReason:
    """Record until the domain ends or `stop` is set; close the trace; the reason it ended.

    `target` is the recorded domain (rrdomain.RrDomain: rrdomain.xen's, or a
    test double) and `rings` its rings; `positions` the mode Xen counts its
    positions in, the one the trace's header says. `end_state` gives the
    records of the state the domain ended in, written last, once everything
    it logged is in the trace.
    """
    pipeline = _Pipeline(rings, writer, positions)
    last, last_entries = clock(), 0
    try:
        while not stop.is_set():
            target.wait(POLL_SECONDS)
            reason = target.ended()
            pipeline.drain()
            if reason is not None:
                break
            writer.tick()
            now = clock()
            if progress is not None and now - last >= PROGRESS_SECONDS:
                progress(Progress((pipeline.entries - last_entries) / (now - last),
                                  os.stat(writer.partial).st_size,
                                  tuple(v.position for v in target.stats().vcpus)))
                last, last_entries = now, pipeline.entries
        else:
            reason = target.stop(pipeline.drain)
        pipeline.finish()
        for r in end_state(reason):
            writer.write(r)
    except BaseException:
        target.abandon()
        raise
    writer.close(reason)
    return reason


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the loop ends at its next turn) instead of killing.

    An exception raised inside a drain could lose entries already taken off
    a ring, so the signals only ask.
    """
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
