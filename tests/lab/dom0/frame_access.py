"""Run inside the lab's dom0: one frame writable for vCPU 1 and absent for vCPU 0.

Usage: python frame_access.py MICRO_PRIVATE_CFG. The micro-guest's private
workload has each vCPU write its own pages for a long while; only at the
end does vCPU 0 read vCPU 1's. Recorded (per-vCPU shadow trees), vCPU 1's
first private frame is made absent for vCPU 0 as soon as the guest has
printed where it is: each vCPU's shadows are queried while the workload
runs, and again once vCPU 0 has reached the frame and can only fault on it
(its position stands still while its shadow faults climb). Then the frame
is given back and the guest must finish and pass. Prints JSON.
"""

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.lab.domu import destroy, finish_guest, start_guest
from xenrr.lab.micro import report

TIMEOUT = 300


def wait_for(condition, what: str, samples: list):
    deadline = time.monotonic() + TIMEOUT
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}; last samples: {samples[-5:]}")
        time.sleep(0.2)
    return found


def recorded(cfg: Path, observe) -> dict:
    """Start the guest recorded, hand it to observe(privcmd, guest), destroy it after."""
    with Privcmd() as privcmd:
        guest = start_guest(privcmd, cfg, "rr")
        try:
            return observe(privcmd, guest)
        finally:
            destroy(guest.domid)


def vcpu1_page(guest):
    """vCPU 1's first private page, once the guest has printed where it is."""
    pages = report.parse(guest.console_log.read_text(errors="replace")[
        guest.console_offset:]).pages
    return next((p for p in pages if p.region == "private" and p.vcpu == 1
                 and p.index == 0), None)


def stuck(rr, domid: int, vcpu: int, samples: list):
    """Whether `vcpu` only faults now: its position stands still, its shadow faults climb."""
    before = rr.stats(domid).vcpus[vcpu]
    time.sleep(1)
    after = rr.stats(domid).vcpus[vcpu]
    samples.append((after.position, after.shadow_faults))
    if after.position == before.position and after.shadow_faults > before.shadow_faults:
        return {"position": after.position,
                "shadow_faults_per_second": after.shadow_faults - before.shadow_faults}
    return None


def observe(privcmd, guest) -> dict:
    out, samples = {}, []
    rr = RrControl(privcmd)
    page = wait_for(lambda: vcpu1_page(guest), "the guest's page lines", samples)
    out["mfn"] = page.mfn

    rr.set_frame_access(guest.domid, page.mfn, 0, "none")
    out["running"] = [asdict(rr.query_frame(guest.domid, page.mfn, v)) for v in (0, 1)]

    out["stuck"] = wait_for(lambda: stuck(rr, guest.domid, 0, samples),
                            "vCPU 0 to reach vCPU 1's frame", samples)
    out["while stuck"] = [asdict(rr.query_frame(guest.domid, page.mfn, v)) for v in (0, 1)]

    rr.set_frame_access(guest.domid, page.mfn, 0, "rw")
    run = finish_guest(privcmd, guest, TIMEOUT)
    out["run"] = run.as_dict()
    return out


if __name__ == "__main__":
    print(json.dumps(recorded(Path(sys.argv[1]), observe)))
