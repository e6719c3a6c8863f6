"""A SIGKILLed recorder leaves NAME.partial, and the reader recovers every complete chunk."""

import os
import signal
import subprocess
import sys
import time

from xenrr.formats import TraceReader
from xenrr.formats import records as rec

RECORDER = """
import itertools, sys, threading
from pathlib import Path
from tests.rrdomain.fakering import FakeRing, crew_event
from tests.crew.traces import HEADER
from xenrr.formats import Durability, PositionMode, TraceWriter
from xenrr.record.recorder import record
from xenrr.rrdomain.rings import RingReader

class Endless:
    # vCPU 0 takes a new frame at each position, for ever.
    def __init__(self):
        self.ring = FakeRing(frames=4)
        self.seq = itertools.count()
    def wait(self, timeout):
        for _ in range(40):
            seq = next(self.seq)
            self.ring.put_record(seq, crew_event(0, seq, seq + 1))
    def ended(self):
        return None
    def stats(self):
        raise AssertionError("no progress callback")

domain = Endless()
writer = TraceWriter(Path(sys.argv[1]), header=HEADER,
                     durability=Durability(flush_seconds=0.05))
record(domain, [RingReader(domain.ring.buffer, 0)], writer, threading.Event(),
       positions=PositionMode.SYNC_ENTRY)
"""


def test_the_partial_trace_of_a_killed_recorder_reads_back(tmp_path):
    path = tmp_path / "t.xrr"
    partial = tmp_path / "t.xrr.partial"
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(path)],
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size > 20000):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not path.exists()
    with TraceReader(partial) as r:
        records = list(r.records())
        assert not r.complete
    assert isinstance(records[0], rec.TraceHeader)
    gfns = [x.gfn for x in records[1:]]
    assert len(gfns) > 100 and gfns == list(range(len(gfns)))
