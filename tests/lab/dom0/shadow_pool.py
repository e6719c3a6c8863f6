"""Run inside the lab's dom0: per-vCPU shadow pools, small and returned.

Usage: python shadow_pool.py GUEST_CFG. Runs the guest once, recorded, as a
warm-up: the first domains of a boot make Xen keep a few pages for good
(its xmalloc pool grows and does not shrink). Then measures Xen's free
pages, runs the guest recorded with the smallest shadow pool Xen allows
(every vCPU's tree evicting shadows all the time), waits for the domain to
be gone, and measures again: a page lost per recorded domain would show.
Prints JSON.
"""

import json
import sys
import time
from pathlib import Path

from xenrr.hypercalls.domctl import getdomaininfo
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.sysctl import physinfo
from xenrr.lab.domu import finish_guest, start_guest


def free_pages_settled(privcmd) -> int:
    previous = None
    for _ in range(120):
        free = physinfo(privcmd).free_pages
        if free == previous:
            return free
        previous = free
        time.sleep(0.5)
    return free


def gone(privcmd, domid: int) -> None:
    for _ in range(300):
        try:
            getdomaininfo(privcmd, domid)
        except NoSuchDomainError:
            return
        time.sleep(0.2)
    raise SystemExit(f"domain {domid} was not destroyed")


def main(cfg: Path) -> dict:
    with Privcmd() as privcmd:
        warm = finish_guest(privcmd, start_guest(privcmd, cfg, "rr", shadow_mb=1,
                                                 overrides=('name="pool-warm-up"',)))
        gone(privcmd, warm.domid)
        before = free_pages_settled(privcmd)
        guest = start_guest(privcmd, cfg, "rr", shadow_mb=1,
                            overrides=('name="pool-smallest"',))
        run = finish_guest(privcmd, guest, timeout=600)
        gone(privcmd, run.domid)
        after = free_pages_settled(privcmd)
    return {"free before": before, "free after": after, "run": run.as_dict()}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
