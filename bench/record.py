"""CREW recording's cost: the lab domU natively and recorded, 1 and 2 vCPUs (one boot).

For each vCPU count the race and locked workloads run natively (`xenrr lab
domu`, the baseline, in the same boot) and recorded (`xenrr record -c`) for
RECORD_SECONDS, after which the recording is stopped as Ctrl-C stops it and
the guest runs on to its end: recording a whole Linux boot takes many
minutes under TCG. Prints the guest's whole run natively (unpause to
power-off) and with its first RECORD_SECONDS recorded (the record command's
run, domain creation included), with the ratio, and what the
recording made: CREW events per second and trace bytes per second over the
recorded window, and stored (compressed) bytes per CREW event. No target:
issue 7 asks for the numbers. Needs root and a built hypervisor (make bench
builds it).
"""

import json
import statistics

from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest
from xenrr.lab.recording import record_guest
from xenrr.lab.session import LabSession

ROUNDS = 2
ITERATIONS = 3000
RECORD_SECONDS = 60
VCPUS = (1, 2)


def crew_events(trace) -> int:
    with TraceReader(trace) as reader:
        return sum(1 for _ in reader.records(frozenset({rec.CrewEvent.TYPE})))


def main() -> int:
    rows = []
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {ROUNDS} rounds of race + locked, "
              f"{ITERATIONS} increments per vCPU, the first {RECORD_SECONDS} s recorded")
        for vcpus in VCPUS:
            cfg = linux_guest(["race", "locked"], ITERATIONS, vcpus=vcpus)
            native, recorded, events, size = [], [], 0, 0
            for _ in range(ROUNDS):
                result = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=900)
                run = json.loads(result.stdout.splitlines()[-1])
                if run["reason"] != "poweroff":
                    print(f"{vcpus} vCPU native: the guest ended with {run['reason']}")
                    return 1
                native.append(run["seconds"])
                r = record_guest(lab, cfg, f"bench-{vcpus}v", stop_after=RECORD_SECONDS)
                if r.result.returncode != 0:
                    print(f"{vcpus} vCPU recorded: {r.result.stderr.strip()}")
                    return 1
                recorded.append(r.result.elapsed)
                events += crew_events(r.trace)
                size += r.trace.stat().st_size
            window = ROUNDS * RECORD_SECONDS
            rows.append((vcpus, statistics.median(native), statistics.median(recorded),
                         events / window, size / window, size / max(events, 1)))
    print(f"{'vCPUs':>5} {'native s':>9} {'recorded s':>11} {'ratio':>7} "
          f"{'events/s':>9} {'trace B/s':>10} {'B/event':>8}")
    for vcpus, n, r, eps, bps, bpe in rows:
        print(f"{vcpus:5} {n:9.2f} {r:11.2f} {r / n:7.2f} {eps:9.0f} {bps:10.0f} {bpe:8.1f}")
    return 0
