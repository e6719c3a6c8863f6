"""CREW model throughput: checking and constraint reduction, target 500,000 events/s.

The workload is recorded through the model itself (xenrr.crew.sim.recording):
8 vCPUs and a DMA device on 64 frames, each vCPU touching its own frame half
the time and a random frame otherwise (reads 60%, writes 35%, hypercalls
5%), under a seeded random interleaving. Then:

- check: checker.check over the recorded log (events and reduced constraints);
- reduce: every ordering the events require (protocol.requirements) through the
  vector clocks (clocks.reduce), i.e. the reduction the recorder does;
- trace: the same log written as a trace file and checked from the file
  (check_trace), which adds the record decoding.

Rates are CREW events per second of process CPU time, best of three runs, so
that other work on the machine counts against the model as little as it
can; beside each is its ratio to a bare loop over the same log measured in
the same process (bench/__init__.py), and the target. The constraint counts
before and after reduction are reported with them.
"""

import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from xenrr.crew.sim.devices import Device
from xenrr.formats import GuestType, PositionMode, TraceHeader, TraceWriter
from xenrr.crew.checker import check
from xenrr.crew.clocks import reduce
from xenrr.crew.protocol import CrewEvent, requirements
from xenrr.crew.sim.program import Op, Read, Sync, Write
from xenrr.crew.sim.recording import Recorder, Recording, Vcpu
from xenrr.crew.history import check_trace, records

TARGET = 500_000
VCPUS, FRAMES, OPS, TRANSACTIONS = 8, 64, 30_000, 500


def workload(seed: int = 1) -> Recording:
    rng = random.Random(seed)

    def program(vcpu: int) -> list[Op]:
        ops: list[Op] = []
        for k in range(OPS):
            frame = vcpu if rng.random() < 0.5 else rng.randrange(FRAMES)
            r = rng.random()
            ops.append(Read(frame, k % 4) if r < 0.6
                       else Write(frame, k % 4, vcpu << 32 | k) if r < 0.95 else Sync())
        return ops

    transactions = [[Write(rng.randrange(FRAMES), w, -t) for w in range(2)]
                    for t in range(TRANSACTIONS)]
    actors = [Vcpu(v, program(v)) for v in range(VCPUS)] + [Device(0, transactions)]
    return Recorder(actors).run(rng.choice)


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def bare_loop(log: list) -> None:
    """The baseline: touch every item of the log as the checker must, and do nothing else."""
    last = {}
    for item in log:
        if type(item) is CrewEvent:
            actor, frame, old, new, position = item
            last[actor] = position


def verdict(ok: bool, target: str) -> str:
    return f"ok (target {target})" if ok else f"BELOW the target of {target}"


def main() -> int:
    start = time.process_time()
    rec = workload()
    recorded = time.process_time() - start
    events = rec.events
    n = len(events)
    print(f"workload       {n:,} CREW events, {len(rec.constraints):,} constraints logged of "
          f"{rec.required:,} required ({rec.required - len(rec.constraints):,} dropped as "
          f"implied), recorded in {recorded:.1f} s")
    baseline = n / best_of(3, lambda: bare_loop(rec.log))
    print(f"bare loop      {baseline:>12,.0f} events/s  (the baseline)")
    rates = {
        "check": n / best_of(3, lambda: check(rec.log)),
        "reduce": n / best_of(3, lambda: list(reduce(requirements(events)))),
    }
    for name, rate in rates.items():
        print(f"{name:<14} {rate:>12,.0f} events/s = {rate / baseline:.3f}x baseline  "
              f"{verdict(rate >= TARGET, f'{TARGET:,} events/s')}")
    with tempfile.TemporaryDirectory(prefix="xenrr-bench-") as tmp:
        path = Path(tmp) / "crew.xrr"
        header = TraceHeader(domid=1, vcpus=VCPUS, guest_type=GuestType.PV,
                             position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1,
                             start_time=0, name="bench", xen_version="", config="")
        with TraceWriter(path, header=header) as w:
            for r in records(rec.log):
                w.write(r)
        rate = n / best_of(3, lambda: check_trace(path))
    print(f"check_trace    {rate:>12,.0f} events/s = {rate / baseline:.3f}x baseline  "
          "(from the file: record decoding included; no target)")
    return 0 if all(rate >= TARGET for rate in rates.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
