"""CREW recording's cost: the lab domU's workloads recorded and not, 1 and 2 vCPUs (one boot).

For each vCPU count the race and locked workloads run natively (`xenrr lab
domu`, the baseline, in the same boot) and recorded (`xenrr record -c`),
ROUNDS times each, interleaved so that a slow moment of the machine hits
both alike. Prints the workloads' own time (what the guest measured around
them) and its ratio to native, then what the recording made: CREW events
per second and trace bytes per second of the recorder's run, and stored
(compressed) bytes per CREW event. No target: issue 7 asks for the numbers.
Needs root and a built hypervisor (make bench builds it).
"""

import json
import statistics

from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest, results
from xenrr.lab.recording import record_guest
from xenrr.lab.session import LabSession

ROUNDS = 2
ITERATIONS = 20_000   # every racing increment is a CREW handover: minutes under TCG
VCPUS = (1, 2)


def workload_seconds(console: str) -> float:
    found = results(console)
    return float(found["race"]["seconds"]) + float(found["locked"]["seconds"])


def crew_events(trace) -> int:
    with TraceReader(trace) as reader:
        return sum(1 for _ in reader.records(frozenset({rec.CrewEvent.TYPE})))


def main() -> int:
    rows = []
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {ROUNDS} rounds of race + locked, "
              f"{ITERATIONS} increments per vCPU each")
        for vcpus in VCPUS:
            cfg = linux_guest(["race", "locked"], ITERATIONS, vcpus=vcpus)
            native, recorded, events, seconds, size = [], [], 0, 0.0, 0
            for _ in range(ROUNDS):
                result = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=900)
                run = json.loads(result.stdout.splitlines()[-1])
                if run["reason"] != "poweroff":
                    print(f"{vcpus} vCPU native: the guest ended with {run['reason']}")
                    return 1
                native.append(workload_seconds(run["console"]))
                r = record_guest(lab, cfg, f"bench-{vcpus}v", timeout=1800)
                if r.result.returncode != 0:
                    print(f"{vcpus} vCPU recorded: {r.result.stderr.strip()}")
                    return 1
                recorded.append(workload_seconds(r.console))
                events += crew_events(r.trace)
                seconds += r.result.elapsed
                size += r.trace.stat().st_size
            rows.append((vcpus, statistics.median(native), statistics.median(recorded),
                         events / seconds, size / seconds, size / events))
    print(f"{'vCPUs':>5} {'native s':>9} {'recorded s':>11} {'ratio':>7} "
          f"{'events/s':>9} {'trace B/s':>10} {'B/event':>8}")
    for vcpus, n, r, eps, bps, bpe in rows:
        print(f"{vcpus:5} {n:9.2f} {r:11.2f} {r / n:7.2f} {eps:9.0f} {bps:10.0f} {bpe:8.1f}")
    return 0
