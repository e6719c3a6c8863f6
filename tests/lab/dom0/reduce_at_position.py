"""Run inside the lab's dom0: a reduction that waits for its vCPU's next position.

Usage: python reduce_at_position.py MICRO_PRIVATE_CFG. Recorded, the
micro-guest's private workload has vCPU 0 fill its own pages for a long
while without entering Xen, and only then read vCPU 1's. While vCPU 0 is
in that loop, it is asked to lose vCPU 1's first page "at its next
position": the reduction must wait (query_frame shows it pending, the
access unchanged), then take effect at the first synchronous entry after
the loop, one position on, after which vCPU 0 can only fault on the page.
The page is then given back and the guest must finish and pass. Prints JSON.
"""

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from frame_access import recorded, stuck, vcpu1_page, wait_for
from xenrr.hypercalls.rr import RrControl
from xenrr.lab.domu import finish_guest


def observe(privcmd, guest) -> dict:
    out, samples = {}, []
    rr = RrControl(privcmd)
    page = wait_for(lambda: vcpu1_page(guest), "the guest's page lines", samples)

    def in_loop():
        before = rr.stats(guest.domid).vcpus[0]
        time.sleep(1)
        after = rr.stats(guest.domid).vcpus[0]
        samples.append((after.position, after.reductions))
        return after if after.position == before.position else None
    out["before"] = asdict(wait_for(in_loop, "vCPU 0 to run its loop", samples))

    rr.set_frame_access(guest.domid, page.mfn, 0, "none", at_position=True)
    out["requested"] = asdict(rr.query_frame(guest.domid, page.mfn, 0))
    out["stats when requested"] = asdict(rr.stats(guest.domid).vcpus[0])
    out["stuck"] = wait_for(lambda: stuck(rr, guest.domid, 0, samples),
                            "vCPU 0 to reach vCPU 1's frame", samples)
    out["after"] = asdict(rr.stats(guest.domid).vcpus[0])
    out["applied"] = asdict(rr.query_frame(guest.domid, page.mfn, 0))

    rr.set_frame_access(guest.domid, page.mfn, 0, "rw")
    out["run"] = finish_guest(privcmd, guest, 300).as_dict()
    return out


if __name__ == "__main__":
    print(json.dumps(recorded(Path(sys.argv[1]), observe)))
