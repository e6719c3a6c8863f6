"""What the lab QEMU's branch counter costs a guest that does not use it, and one that does.

The same CPU-bound loop (a xorshift step and a branch on its low bit: two
conditional branches per iteration, r_bench in
xenrr/lab/baremetal/guest/branches.S) runs in the bare-metal PMU test
kernel under the system's qemu-system-x86_64 and under the lab's patched
one, same machine options, counter off; and, for what counting costs (a
recording), under the lab's QEMU with counter 0 counting the loop's
branches. ROUNDS boots of each, alternating so that a slow moment of the
machine hits all alike. Timed twice: by the guest (TSC cycles around the
loop, which under TCG tick with the host's) and by the host (the whole QEMU
process, boot included). Prints the medians and their ratios to the
system's QEMU. Target (issue 17): report it; while no counter counts
branches the lab's QEMU translates code as the system's does. Needs the lab
QEMU (make bench builds it).
"""

import shutil
import statistics

from xenrr.lab.baremetal import builder
from xenrr.lab.baremetal.run import run
from xenrr.lab.qemubuild import BINARY, QemuBuilds, QemuSpec

ROUNDS = 5
ITERATIONS = 500_000_000


def main() -> int:
    system = shutil.which("qemu-system-x86_64")
    if system is None:
        print("qemu_pmu: the system's qemu-system-x86_64 is not installed")
        return 1
    lab = QemuBuilds().build(QemuSpec.current()) / BINARY
    runs = {"system": (system, ""), "lab": (lab, ""), "lab, counting": (lab, " counting=1")}
    kernel = builder.build()
    tsc = {name: [] for name in runs}
    wall = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, (qemu, extra) in runs.items():
            result = run(qemu, kernel, f"bench={ITERATIONS}{extra}", timeout=600)
            (record,) = result.of("bench")
            if extra and record["counted"] != 2 * ITERATIONS:
                print(f"{name}: counted {record['counted']} branches, not {2 * ITERATIONS}")
                return 1
            tsc[name].append(record["tsc"])
            wall[name].append(result.seconds)
    print(f"{ROUNDS} boots each, {ITERATIONS} loop iterations (2 conditional branches each)")
    print(f"{'QEMU':14} {'guest Gcycles':>14} {'ratio':>7} {'process s':>10} {'ratio':>7}")
    base_tsc, base_wall = statistics.median(tsc["system"]), statistics.median(wall["system"])
    for name in runs:
        t, w = statistics.median(tsc[name]), statistics.median(wall[name])
        print(f"{name:14} {t / 1e9:14.3f} {t / base_tsc:7.3f} {w:10.2f} {w / base_wall:7.3f}")
    return 0
