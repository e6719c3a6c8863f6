"""Replaying the micro-guests: outcomes natively, recorded and replayed, and replay's cost (one boot).

Each workload runs natively NATIVE times (`xenrr lab domu`, the baseline,
in the same boot), is recorded once by branch count, and replayed REPLAYS
times with `xenrr replay`. Prints the distinct outcomes (the guest's digest
of its shared memory) of the native runs, whether every replay printed the
recorded one and ended in the recorded end state (xenrr's final digests of
memory and registers, compared by `xenrr replay`), each command's seconds
from domain creation to its end (native mean, recording, replay mean: the
replay's includes building the domain and proving its start) with replay's
ratio to each, and for the replay proper (from the first instruction to
the last crew_event, as `xenrr replay --json` times it) its seconds, the
crew_events replayed per second and the trace bytes read per second, and
the inputs recording logged (TSC reads, events published, upcalls) per
second of recording with their mean size in bytes (record header and
body, before compression). Exits
1 at the first replay that fails, prints another outcome or has no end
state compared. Needs root and a built hypervisor (make bench builds it).
"""

import json
from statistics import mean

from bench.record_micro import counts
from xenrr.formats import AsyncInput, Rdtsc, TraceReader
from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import PRESERVE, record_guest
from xenrr.lab.session import LabSession

# (workload, vCPUs, native runs, replays)
CASES = (("race", 2, 10, 10), ("race", 4, 3, 3), ("locked", 2, 3, 3),
         ("pingpong", 2, 3, 3), ("falseshare", 2, 3, 3), ("tsc", 2, 10, 3),
         ("timers", 2, 10, 10), ("timers", 4, 3, 3))
TIMEOUT = 900


def inputs(trace) -> tuple[int, int]:
    """(inputs, their bytes framed as in a chunk) in a trace."""
    n = size = 0
    with TraceReader(trace) as reader:
        for r in reader.records(frozenset({Rdtsc.TYPE, AsyncInput.TYPE})):
            n += 1
            size += len(type(r).CODEC.frame(r))
    return n, size


def main() -> int:
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; positions by branch count")
        print(f"{'workload':>13} {'native':>6} {'replays':>9} {'native s':>9} {'rec s':>6} "
              f"{'replay s':>9} {'/native':>8} {'/rec':>6} {'run s':>6} {'events/s':>9} "
              f"{'KiB/s':>7} {'inputs/s':>9} {'B/input':>8}")
        for workload, vcpus, natives, replays in CASES:
            cfg = micro.config(workload, vcpus=vcpus)
            name = f"{workload}-{vcpus}v"
            native_s, outcomes = [], set()
            for _ in range(natives):
                r = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=TIMEOUT)
                out = json.loads(r.stdout.splitlines()[-1])
                native_s.append(r.elapsed)
                outcomes.add(report.parse(out["console"]).digest)
            rec = record_guest(lab, cfg, f"bench-replay-{name}", timeout=TIMEOUT,
                               guest=cfg.stem, options=("--positions", "branch"))
            recorded = report.parse(rec.console).digest
            if rec.result.returncode != 0 or recorded is None:
                print(f"{name}: recording failed: {rec.result.stderr.strip()[-300:]}")
                return 1
            events = counts(rec.trace)[0]
            logged, logged_bytes = inputs(rec.trace)
            size = rec.trace.stat().st_size
            log = f"/var/log/xen/console/guest-{cfg.stem}.log"
            replay_s, run_s = [], []
            for n in range(replays):
                lab.run(["sh", "-c", f": > {log}"])
                r = lab.run(["xenrr", "replay", "-q", "--json", str(cfg),
                             str(lab.share.in_dom0(rec.trace)), *PRESERVE], timeout=TIMEOUT)
                console = lab.run(["cat", log]).stdout
                lab.run(["xl", "destroy", cfg.stem])
                summary = json.loads(r.stdout) if r.stdout.strip() else {}
                if (r.returncode != 0 or report.parse(console).digest != recorded or
                        summary.get("final") is None):
                    print(f"{name}: replay {n + 1}: exit {r.returncode}, outcome "
                          f"{report.parse(console).digest} for {recorded}: "
                          f"{r.stderr.strip()[-300:]}")
                    return 1
                replay_s.append(r.elapsed)
                run_s.append(max(summary["seconds"], 1e-3))
            seconds, run = mean(replay_s), mean(run_s)
            print(f"{name:>13} {len(outcomes):>3}/{natives:<2} {replays:>4}/{replays:<4} "
                  f"{mean(native_s):9.2f} {rec.result.elapsed:6.2f} {seconds:9.2f} "
                  f"{seconds / mean(native_s):8.2f} {seconds / rec.result.elapsed:6.2f} "
                  f"{run:6.2f} {events / run:9.0f} {size / 1024 / run:7.1f} "
                  f"{logged / rec.result.elapsed:9.0f} "
                  f"{logged_bytes / max(logged, 1):8.1f}", flush=True)
    return 0
