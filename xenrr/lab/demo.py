"""`make demo`: build, boot, and show xenrr's job on a race whose outcome changes from run to run.

The race micro-guest has two vCPUs increment one shared counter without a
lock, so increments are lost, a different number each run. The demo runs
it natively twice, records a third run with `xenrr record`, shows what the
trace holds (`xenrr log info`, `xenrr log sharing`), then replays it with
`xenrr replay`: the domain is built again on the frames of its recording,
its start proven identical, and Xen replays it from the trace. The last
line says whether the replay reproduced the recorded outcome, judged by
the guest's own digest of its memory.
"""

import json
import time
from typing import TextIO

from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import PRESERVE, record_guest
from xenrr.lab.session import LabSession
from xenrr.lab.qemubuild import QemuBuilds, QemuSpec
from xenrr.lab.xenbuild import BuildSpec, XenBuilds, hypervisor_series

WORKLOAD, VCPUS = "race", 2
NATIVE_RUNS = 2
TIMEOUT = 600
INDENT = "    "


def _outcome(console: str) -> str:
    found = report.parse(console).result
    return (f"counter {found.get('counter', '?')} of {found.get('expected', '?')} "
            f"({found.get('lost', '?')} increments lost)")


def _indented(text: str) -> str:
    return "".join(f"{INDENT}{line}\n" for line in text.strip().splitlines())


def run_demo(out: TextIO) -> bool:
    """Print the demo's steps to out; True if every step did what it should."""
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
    cfg = micro.config(WORKLOAD, vcpus=VCPUS)
    out.write(f"guest: the {WORKLOAD} micro-guest, {VCPUS} vCPUs incrementing one counter "
              f"without a lock: {cfg}\n")
    with LabSession(xen=build / "xen") as lab:
        out.write(f"lab: Xen and dom0 booted under QEMU (TCG, 2 CPUs), toolstack up "
                  f"[{lab.boot_seconds:.1f} s]\n")
        outcomes = []
        for run in range(1, NATIVE_RUNS + 1):
            result = lab.run(["xenrr", "lab", "domu", "--json", str(cfg)], timeout=TIMEOUT)
            if result.returncode != 0 or not result.stdout.strip():
                out.write(f"native run {run}: failed: {result.stderr.strip()}\n")
                return False
            outcomes.append(_outcome(json.loads(result.stdout.splitlines()[-1])["console"]))
            out.write(f"native run {run}: {outcomes[-1]} [{result.elapsed:.1f} s]\n")
        rec = record_guest(lab, cfg, "demo-race", timeout=TIMEOUT, guest=cfg.stem)
        if rec.result.returncode != 0:
            out.write(f"recorded run: failed: {rec.result.stderr.strip()}\n")
            return False
        out.write(f"recorded run (xenrr record -c {cfg.name}): {_outcome(rec.console)} "
                  f"[{rec.result.elapsed:.1f} s]\n")
        trace = str(lab.share.in_dom0(rec.trace))
        for command in (["log", "info"], ["log", "sharing"]):
            shown = lab.run(["xenrr", *command, trace], timeout=TIMEOUT)
            out.write(f"$ xenrr {' '.join(command)} {rec.trace.name}\n"
                      f"{_indented(shown.stdout or shown.stderr)}")
        console_log = f"/var/log/xen/console/guest-{cfg.stem}.log"
        lab.run(["sh", "-c", f": > {console_log}"])
        replay = lab.run(["xenrr", "replay", str(cfg), trace, *PRESERVE], timeout=TIMEOUT)
        replayed = lab.run(["cat", console_log]).stdout
        lab.run(["xl", "destroy", cfg.stem])
        out.write(f"$ xenrr replay {cfg.name} {rec.trace.name}\n{_indented(replay.stderr)}")
    differ = len(set(outcomes)) > 1
    out.write(f"native runs: {'different outcomes' if differ else 'the same outcome this time'}"
              f"; recorded: {_outcome(rec.console)}; replayed: "
              f"{_outcome(replayed) if replay.returncode == 0 else 'no outcome'}\n")
    recorded = report.parse(rec.console).digest
    same = (replay.returncode == 0 and recorded is not None and
            report.parse(replayed).digest == recorded)
    if not same:
        out.write("demo: FAILED: the replay did not reproduce the recording\n")
        return False
    out.write(f"demo: the replay reproduced the recording: {_outcome(replayed)}, the guest's "
              f"memory digest {report.parse(replayed).digest} as recorded\n")
    return True
