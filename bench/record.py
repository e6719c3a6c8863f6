"""CREW recording's cost: the lab domU natively and recorded, 1 and 2 vCPUs (one boot).

For each vCPU count the race and locked workloads run natively (`xenrr lab
domu`, the baseline, in the same boot) and recorded from the first
instruction to power-off (`xenrr record -c`), once with positions by
branch count and once by synchronous entries (`--positions`; issue 17's
targets are for branch: whole run at most 3x native, race and locked at
most 20x with 2 vCPUs). Prints the whole run (unpause
to power-off natively; the record command, domain creation included) and
each workload's own time by the guest's clock, with ratios; then what the
recording made: CREW events per second and trace bytes per second of the
recorded run, stored (compressed) bytes per CREW event, and whether the
host's model checker accepts the trace, in how long. One round per vCPU
count and mode: a 2-vCPU run recorded by synchronous entries takes about ten
minutes under TCG. Exits 1 if a guest ends otherwise than with its self-check
passed, recorded or not, or the model checker rejects a trace: the suite
records only part of the boot (tests/lab/test_record.py), so this is where a
whole recorded run is checked. Needs root and a built hypervisor (make bench builds it).
"""

import json
import re
import time

from xenrr.errors import ModelError
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest
from xenrr.lab.recording import record_guest
from xenrr.lab.session import LabSession
from xenrr.crew.history import check_trace

WORKLOADS = ("race", "locked")
ITERATIONS = 3000
VCPUS = (1, 2)
MODES = ("branch", "sync-entry")
RECORD_TIMEOUT = 2400

# What the guest's init prints for each workload.
WORKLOAD_LINE = re.compile(r"xenrr-guest: (\w+) .* seconds=([\d.]+)")


def workload_seconds(console: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in WORKLOAD_LINE.finditer(console)}


def crew_events(trace) -> int:
    with TraceReader(trace) as reader:
        return sum(1 for _ in reader.records(frozenset({rec.CrewEvent.TYPE})))


def row(label: str, native: float, recorded: float) -> str:
    return f"{label:>18} {native:9.2f} {recorded:11.2f} {recorded / native:7.2f}"


def report(vcpus: int, mode: str, native: dict, n_work: dict[str, float], r) -> bool:
    """Print the recording's figures; whether the model checker accepts its trace."""
    r_work = workload_seconds(r.console)
    events, size = crew_events(r.trace), r.trace.stat().st_size
    t0 = time.monotonic()
    accepted = False
    try:
        summary = check_trace(r.trace)
        verdict = (f"the model checker accepts it ({summary.events} events, "
                   f"{summary.constraints} constraints)")
        accepted = True
    except ModelError as e:
        verdict = f"the model checker rejects it ({e})"
    checked = time.monotonic() - t0
    print(f"\n{vcpus} vCPU{'s' if vcpus > 1 else ''}, positions {mode}: "
          f"{'':>18} {'native s':>9} {'recorded s':>11} {'ratio':>7}")
    print(row("whole run", native["seconds"], r.result.elapsed))
    for w in WORKLOADS:
        print(row(w, n_work[w], r_work[w]))
    print(f"  {events / r.result.elapsed:.0f} CREW events/s, "
          f"{size / r.result.elapsed:.0f} trace bytes/s, "
          f"{size / max(events, 1):.1f} stored bytes per CREW event "
          f"({events} events, {size} bytes); {verdict} in {checked:.1f} s", flush=True)
    return accepted


def main() -> int:
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {'+'.join(WORKLOADS)}, "
              f"{ITERATIONS} increments per vCPU, recorded from the first instruction")
        for vcpus in VCPUS:
            cfg = linux_guest(list(WORKLOADS), ITERATIONS, vcpus=vcpus)
            result = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=900)
            native = json.loads(result.stdout.splitlines()[-1])
            if native["reason"] != "poweroff":
                print(f"{vcpus} vCPU native: the guest ended with {native['reason']}")
                return 1
            n_work = workload_seconds(native["console"])
            for mode in MODES:
                r = record_guest(lab, cfg, f"bench-{vcpus}v-{mode}", timeout=RECORD_TIMEOUT,
                                 options=("--positions", mode))
                if r.result.returncode != 0 or "xenrr-guest: done ok" not in r.console:
                    print(f"{vcpus} vCPU recorded ({mode}): {r.result.stderr.strip()[-300:]}\n"
                          f"{r.console}")
                    return 1
                if not report(vcpus, mode, native, n_work, r):
                    return 1
    return 0
