"""Recording the race again and again by branch count: Xen must survive every one (one boot).

The race micro-guest (2 and 4 vCPUs on the lab's 2 cores) is recorded
with `xenrr record --positions branch` ROUNDS times each. Its vCPUs
fight over one frame, so a holder is often interrupted while not running
and its saved state read (rr_crew_interrupt() in the patched Xen): the
path where a debug Xen once failed an assertion in sync_vcpu_execstate()
now and then (patch 0012). Prints, per vCPU count, the recordings that
ended well, their mean seconds, the distinct outcomes (the guest's digest of its shared memory),
and the CREW events per recording; exits 1 at the first recording that
fails or at a Xen crash (LabCrash, with the serial log's tail). Too long
for the test suite, which records the race a few times. Needs root and
a built hypervisor (make bench builds it).
"""

from statistics import mean

from bench.record_micro import counts
from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import record_guest
from xenrr.lab.session import LabSession

ROUNDS = 20
VCPU_COUNTS = (2, 4)
TIMEOUT = 300


def main() -> int:
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; race recorded {ROUNDS} times "
              "per vCPU count, positions by branch count")
        print(f"{'vCPUs':>5} {'ok':>6} {'mean s':>7} {'outcomes':>9} {'events':>8}")
        for vcpus in VCPU_COUNTS:
            cfg = micro.config("race", vcpus=vcpus)
            seconds, outcomes, events = [], set(), []
            for n in range(ROUNDS):
                r = record_guest(lab, cfg, f"bench-stress-{vcpus}v", timeout=TIMEOUT,
                                 guest=cfg.stem, options=("--positions", "branch"))
                if r.result.returncode != 0:
                    print(f"{vcpus} vCPUs, recording {n + 1}: exit {r.result.returncode}: "
                          f"{r.result.stderr.strip()[-300:]}")
                    return 1
                seconds.append(r.result.elapsed)
                outcomes.add(report.parse(r.console).digest)
                events.append(counts(r.trace)[0])
            print(f"{vcpus:>5} {len(seconds):>3}/{ROUNDS:<2} {mean(seconds):7.2f} "
                  f"{len(outcomes):>9} {mean(events):8.0f}", flush=True)
    return 0
