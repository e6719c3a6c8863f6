"""Recording the micro-guests: each workload natively and recorded by branch count (one boot).

Every workload of the micro-guest with 2 vCPUs at ten times its default
iterations (a run of a second or more natively) runs natively (`xenrr lab
domu`, the baseline, in the same boot) and is recorded with `xenrr record
--positions branch` from its first instruction. Prints the guest's own run
natively (unpause to power-off), then each command's seconds from domain
creation to its end (`xenrr lab domu` natively, `xenrr record`) and their
ratio, and what the recording made: CREW events and
handovers (increases that had to wait for another vCPU's reduction: the
constraints the trace carries) per recorded second. Needs root and a
built hypervisor (make bench builds it).
"""

import json

from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab import micro
from xenrr.lab.micro import workloads
from xenrr.lab.recording import record_guest
from xenrr.lab.session import LabSession

VCPUS = 2
SCALE = 10
TIMEOUT = 900


def counts(trace) -> tuple[int, int]:
    """(CREW events, constraints) in a trace."""
    events = handovers = 0
    with TraceReader(trace) as reader:
        for r in reader.records(frozenset({rec.CrewEvent.TYPE, rec.Constraint.TYPE})):
            if type(r) is rec.CrewEvent:
                events += 1
            else:
                handovers += 1
    return events, handovers


def main() -> int:
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {VCPUS} vCPUs, {SCALE}x default iterations, "
              "recorded with positions by branch count")
        print(f"{'workload':>12} {'run s':>7} {'native s':>9} {'recorded s':>11} {'ratio':>7} "
              f"{'events/s':>9} {'handovers/s':>12}")
        for w in workloads.WORKLOADS:
            cfg = micro.config(w.name, vcpus=VCPUS, iterations=SCALE * w.default_iterations)
            result = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=TIMEOUT)
            native = json.loads(result.stdout.splitlines()[-1])
            r = record_guest(lab, cfg, f"bench-micro-{w.name}", timeout=TIMEOUT,
                             guest=cfg.stem, options=("--positions", "branch"))
            if native["reason"] != "poweroff" or r.result.returncode != 0:
                print(f"{w.name}: native {native['reason']}; recorded: "
                      f"{r.result.stderr.strip()[-300:]}")
                return 1
            events, handovers = counts(r.trace)
            seconds = r.result.elapsed
            print(f"{w.name:>12} {native['seconds']:7.2f} {result.elapsed:9.2f} {seconds:11.2f} "
                  f"{seconds / result.elapsed:7.2f} {events / seconds:9.0f} "
                  f"{handovers / seconds:12.0f}", flush=True)
    return 0
