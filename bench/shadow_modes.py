"""The 2-vCPU lab domU natively, in shared shadow mode and with per-vCPU shadows (one boot).

Boots the lab once and runs the Linux domU's race and locked workloads
ROUNDS times in each mode, interleaving the modes so that a slow moment of
the machine hits all of them alike. Prints, per mode, the workloads' own
time (what the guest measured around them) and the whole guest's run (boot
to power-off), with their ratios to native. No target: issue 6 asks for the
numbers. Needs root and a built hypervisor (make bench builds it).
"""

import json
import statistics

from xenrr.lab.guest import linux_guest, results
from xenrr.lab.session import LabSession

ROUNDS = 3
ITERATIONS = 2_000_000
MODES = {"native": [], "shared shadows": ["--shadow"], "per-vCPU shadows": ["--rr"]}


def workload_seconds(console: str) -> float:
    found = results(console)
    return float(found["race"]["seconds"]) + float(found["locked"]["seconds"])


def main() -> int:
    cfg = linux_guest(["race", "locked"], ITERATIONS, vcpus=2)
    times = {mode: {"workloads": [], "guest": []} for mode in MODES}
    with LabSession() as lab:
        print(f"lab booted in {lab.boot_seconds:.1f} s; {ROUNDS} rounds of race + locked, "
              f"{ITERATIONS} increments per vCPU each")
        for _ in range(ROUNDS):
            for mode, options in MODES.items():
                result = lab.run(["xenrr", "lab", "domu", "--json", *options, str(cfg)],
                                 timeout=900)
                run = json.loads(result.stdout.splitlines()[-1])
                if run["reason"] != "poweroff":
                    print(f"{mode}: the guest ended with {run['reason']}")
                    return 1
                times[mode]["workloads"].append(workload_seconds(run["console"]))
                times[mode]["guest"].append(run["seconds"])
    base = {k: statistics.median(v) for k, v in times["native"].items()}
    print(f"{'mode':18} {'workloads s':>12} {'ratio':>7} {'guest run s':>12} {'ratio':>7}")
    for mode, t in times.items():
        w, g = statistics.median(t["workloads"]), statistics.median(t["guest"])
        print(f"{mode:18} {w:12.2f} {w / base['workloads']:7.2f} {g:12.2f} "
              f"{g / base['guest']:7.2f}")
    return 0
