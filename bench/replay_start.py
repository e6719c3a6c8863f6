"""Replay's start: building a recorded micro-guest again on its frames, against `xl create -p`.

For each micro-guest workload (2 vCPUs, default iterations) recorded from
its first instruction, in one boot: `xl create -p` of its config then `xl
destroy` (the baseline: what building the domain costs anyway), and
`xenrr replay -p` of its trace (the frames planned in Xen, the domain
built on them, every frame read and digested and every vCPU's registers
compared) then `xl destroy`; each REPEAT times, the median taken. Prints
both, their ratio, and the frames compared per second of the replay's
start. Python's start-up and imports (typer, construct, pycparser for the
cffi ABI) in the lab's dom0 under TCG are most of a xenrr command's time,
so `xenrr replay --help` (the same imports, no work) is timed too, and the
replay's start without it. The recorder's reading of the start is part of
the recording and not timed apart here. Needs root and a built hypervisor
(make bench builds it).
"""

import statistics

from xenrr.lab import micro
from xenrr.lab.micro import workloads
from xenrr.lab.micro.xlconfig import MEMORY_MB
from xenrr.lab.recording import PRESERVE, record_guest
from xenrr.lab.session import LabSession

VCPUS = 2
REPEAT = 3
TIMEOUT = 600
FRAMES = MEMORY_MB * 256


def timed(lab, argv, name) -> float:
    """Seconds `argv` took, the domain `name` it leaves destroyed after."""
    result = lab.run(argv, timeout=TIMEOUT)
    lab.run(["xl", "destroy", name])
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {result.stderr.strip()[-300:]}")
    return result.elapsed


def main() -> int:
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {VCPUS} vCPUs, {FRAMES} frames each, "
              f"median of {REPEAT}")
        startup = statistics.median(lab.run(["xenrr", "replay", "--help"]).elapsed
                                    for _ in range(REPEAT))
        print(f"xenrr replay --help (start-up and imports): {startup:.2f} s")
        print(f"{'workload':>12} {'xl create -p s':>15} {'replay start s':>15} {'ratio':>7} "
              f"{'without start-up s':>19} {'ratio':>7} {'frames/s':>9}")
        for w in workloads.WORKLOADS:
            cfg = micro.config(w.name, vcpus=VCPUS)
            rec = record_guest(lab, cfg, f"bench-replay-start-{w.name}", timeout=TIMEOUT,
                               guest=cfg.stem)
            if rec.result.returncode != 0:
                print(f"{w.name}: recording failed: {rec.result.stderr.strip()[-300:]}")
                return 1
            trace = str(lab.share.in_dom0(rec.trace))
            native = statistics.median(
                timed(lab, ["xl", "create", "-p", str(cfg), *PRESERVE], cfg.stem)
                for _ in range(REPEAT))
            start = statistics.median(
                timed(lab, ["xenrr", "replay", "-p", "-q", str(cfg), trace, *PRESERVE], cfg.stem)
                for _ in range(REPEAT))
            own = start - startup
            print(f"{w.name:>12} {native:15.2f} {start:15.2f} {start / native:7.2f} "
                  f"{own:19.2f} {own / native:7.2f} {FRAMES / own:9.0f}", flush=True)
    return 0
