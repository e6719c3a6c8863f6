"""`make demo`: build, boot, run the 2-vCPU domU natively and in shadow mode, say what happened.

Later stages extend it to record and replay; for now it shows the ground
they stand on: the patched hypervisor, shadow paging of a multi-vCPU PV
guest, and a racy workload whose outcome differs from run to run.
"""

import json
import time
from typing import TextIO

from xenrr.lab.guest import linux_guest, results
from xenrr.lab.session import LabSession
from xenrr.lab.qemubuild import QemuBuilds, QemuSpec
from xenrr.lab.xenbuild import BuildSpec, XenBuilds, hypervisor_series

ITERATIONS = 200000


def _describe(summary: dict) -> str:
    found = results(summary["console"])
    race, locked = found.get("race", {}), found.get("locked", {})
    text = f"{summary['reason']} after {summary['seconds']:.1f} s"
    if race:
        text += (f"; race: counter {race['counter']} of {race['expected']} "
                 f"({race['lost']} increments lost)")
    if locked:
        text += f"; locked: counter {locked['counter']} of {locked['expected']} " \
                f"({locked.get('verdict', '?')})"
    return text


def run_demo(out: TextIO) -> bool:
    """Print the demo's steps to out; True if every guest run succeeded."""
    t = time.monotonic()
    series = hypervisor_series()
    build = XenBuilds().build(BuildSpec(series))
    out.write(f"hypervisor: Xen 4.17.5-xenrr, series {series.digest} "
              f"({len(series.patches)} patches): {build / 'xen'} "
              f"[{time.monotonic() - t:.1f} s]\n")
    t = time.monotonic()
    qemu = QemuBuilds().build(QemuSpec.current())
    out.write(f"lab QEMU: Debian's 7.2 with a branch counter: {qemu} "
              f"[{time.monotonic() - t:.1f} s]\n")
    t = time.monotonic()
    cfg = linux_guest(["race", "locked"], ITERATIONS, vcpus=2)
    out.write(f"domU: 2-vCPU PV Linux running race and locked, {ITERATIONS} increments "
              f"per vCPU: {cfg} [{time.monotonic() - t:.1f} s]\n")
    ok = True
    with LabSession(xen=build / "xen") as lab:
        out.write(f"lab: Xen and dom0 booted under QEMU (TCG, 2 CPUs), toolstack up "
                  f"[{lab.boot_seconds:.1f} s]\n")
        for mode, options in (("native", []), ("shadow paging", ["--shadow"])):
            result = lab.run(["xenrr", "lab", "domu", "--json", *options, str(cfg)],
                             timeout=600)
            if not result.stdout.strip():
                out.write(f"{mode}: failed: {result.stderr.strip()}\n")
                ok = False
                continue
            summary = json.loads(result.stdout.splitlines()[-1])
            out.write(f"{mode}: {_describe(summary)}\n")
            ok = ok and result.returncode == 0
    out.write("demo: " + ("every run completed; the race lost a different number of "
                          "increments each time, the lock none" if ok else "FAILED") + "\n")
    return ok
