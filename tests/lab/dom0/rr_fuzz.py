"""Run inside the lab's dom0: thousands of random XEN_DOMCTL_rr_op calls.

Usage: python rr_fuzz.py GUEST_CFG CALLS SEED. While a guest runs its
workload, send rr_op calls with random sub-operations, random fields and
random target domains (dom0, the running guest, a paused guest, domains
that do not exist). Every call must come back with success or an errno.
Prints JSON: the calls made, outcomes by sub-op and errno, and the
running guest's run (which the host test checks was not disturbed).
"""

import errno
import json
import random
import sys
from collections import Counter
from pathlib import Path

from xenrr.errors import XenrrError
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.domctl import domctl
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.lab.domu import destroy, finish_guest, start_guest

from rr_checks import paused_domain  # noqa: E402 - the sibling script

UNION = ffi.sizeof("struct xen_domctl") - ffi.offsetof("struct xen_domctl", "u") \
    - ffi.offsetof("struct xen_domctl_rr_op", "u")


def random_body(rng: random.Random) -> bytes:
    """Half plausible enable/stats arguments, half noise."""
    if rng.random() < 0.5:
        return rng.randbytes(UNION)
    words = [rng.choice([0, 1, 2, 3, rng.randrange(1 << 32)]),      # mode / vcpu
             rng.choice([0, 0, 1, 2, rng.randrange(1 << 32)]),      # position mode
             rng.choice([0, 0, 0, 1, rng.randrange(1 << 32)]),      # flags
             rng.choice([0, 0, 16, 64, rng.randrange(1 << 32)])]    # shadow_mb
    return b"".join(w.to_bytes(4, "little") for w in words) + bytes(UNION - 16)


def main(cfg: Path, calls: int, seed: int) -> dict:
    rng = random.Random(seed)
    outcomes = Counter()
    with Privcmd() as privcmd:
        running = start_guest(privcmd, cfg, "native", overrides=('name="rr-fuzz-running"',))
        try:
            with paused_domain(cfg, "rr-fuzz-paused") as paused:
                fuzz(privcmd, rng, calls, outcomes,
                     [0, running.domid, paused, paused, 1000, 32000, 0x7FF0, 0xFFFF])
            run = finish_guest(privcmd, running)
        finally:
            destroy(running.domid)
    return {"calls": calls, "outcomes": dict(outcomes), "running": run.as_dict()}


def fuzz(privcmd, rng: random.Random, calls: int, outcomes: Counter, targets: list[int]) -> None:
    for _ in range(calls):
        op = rng.choice([0, 1, 1, 2, 3, 3, 4, 5, rng.randrange(1 << 32)])
        pad = 0 if rng.random() < 0.9 else rng.randrange(1, 1 << 32)
        body = random_body(rng)

        def fill(u):
            u.rr_op.op = op
            u.rr_op.pad = pad
            ffi.memmove(ffi.addressof(u.rr_op.u), body, len(body))
        try:
            domctl(privcmd, lib.XEN_DOMCTL_rr_op, rng.choice(targets), fill, what="fuzz")
            result = "ok"
        except XenrrError as e:
            result = errno.errorcode.get(getattr(e, "errno", 0), type(e).__name__)
        outcomes[f"{op if op < 6 else 'other'} {result}"] += 1


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
