"""Run inside the lab's dom0: each refusal XEN_DOMCTL_rr_op documents, and enable/disable.

Usage: python rr_checks.py GUEST_CFG. Prints one JSON object: check name ->
"ok" or the errno's name, plus the counters and guest runs the host test
asserts on. Everything is done through xenrr's own hypercall layer.
"""

import errno
import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from xenrr.errors import XenrrError
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.domctl import disable_shadow, domctl, enable_shadow
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.resource import ResourceMapping
from xenrr.hypercalls.rr import RrControl
from xenrr.lab.domu import PRESERVE, destroy, finish_guest, start_guest
from xenrr.domains import resolve


def outcome(call) -> str:
    try:
        call()
        return "ok"
    except XenrrError as e:
        return errno.errorcode.get(getattr(e, "errno", 0), type(e).__name__)


def raw_rr_op(privcmd, domid: int, op: int, pad: int = 0, **enable) -> None:
    """An rr_op with fields xenrr's own API would never send."""
    def fill(u):
        u.rr_op.op = op
        u.rr_op.pad = pad
        for name, value in enable.items():
            setattr(u.rr_op.u.enable, name, value)
    domctl(privcmd, lib.XEN_DOMCTL_rr_op, domid, fill, what="raw rr_op")


@contextmanager
def paused_domain(cfg: Path, name: str, *overrides: str):
    """A domain created paused from cfg, destroyed however the block ends."""
    subprocess.run(["xl", "create", "-p", str(cfg), f'name="{name}"', *overrides, *PRESERVE],
                   check=True, capture_output=True)
    with Privcmd() as privcmd:
        domid = resolve(privcmd, name).domid
    try:
        yield domid
    finally:
        destroy(domid)


def main(cfg: Path) -> dict:
    results = {}
    with Privcmd() as privcmd:
        rr = RrControl(privcmd)
        with paused_domain(cfg, "rr-checks-pv") as pv:
            results.update(refusals(privcmd, rr, pv))
            subprocess.run(["xl", "unpause", str(pv)], check=True)
            results["enable running"] = outcome(lambda: rr.enable(pv))

        with paused_domain(cfg, "rr-checks-pvh", 'type="pvh"') as pvh:
            results["enable PVH"] = outcome(lambda: rr.enable(pvh))

        results.update(dying_domain(privcmd, rr, cfg))

        with paused_domain(cfg, "rr-checks-shadowed") as shadowed:
            enable_shadow(privcmd, shadowed, 16)
            results["enable a domain already in shadow mode"] = outcome(
                lambda: rr.enable(shadowed))

        # Enabled from the first instruction, disabled while the guest runs:
        # it must go on, on shared shadows, to its end.
        guest = start_guest(privcmd, cfg, "rr", overrides=('name="rr-checks-disable"',))
        try:
            results.update(disable_while_running(privcmd, rr, guest))
        finally:
            destroy(guest.domid)
    return results


def dying_domain(privcmd, rr: RrControl, cfg: Path) -> dict:
    """rr_op on a recorded domain being destroyed, as libvirt destroys one while its
    recorder stops. The mapped ring keeps the domain from going away: it stays dying."""
    results = {}
    with paused_domain(cfg, "rr-checks-dying") as domid:
        rr.enable(domid, crew=True)
        ring = rr.ring(domid, 0)
        with ResourceMapping(privcmd, domid, lib.XENMEM_resource_rr_ring, 0, ring.frames,
                             what="map vCPU 0's ring"):
            destroy(domid)
            results["dying: stats"] = outcome(lambda: rr.stats(domid))
            results["dying: ring"] = outcome(lambda: rr.ring(domid, 0))
            results["dying: disable"] = outcome(lambda: rr.disable(domid))
            results["dying: enable"] = outcome(lambda: rr.enable(domid))
    return results


def enabled_and_undone(privcmd, rr: RrControl, domid: int, **enable) -> str:
    """enable's outcome; if Xen accepts it (branch positions where the CPU has a counter),
    rr disabled and shadow mode off again at once: the checks after it find the domain as
    if never enabled."""
    result = outcome(lambda: rr.enable(domid, **enable))
    if result == "ok":
        rr.disable(domid)
        disable_shadow(privcmd, domid)
    return result


def refusals(privcmd, rr: RrControl, pv: int) -> dict:
    """What rr_op answers about a paused PV domain, bad requests first."""
    enable = lib.XEN_DOMCTL_RR_OP_enable
    return {
        "enable unknown mode": outcome(lambda: raw_rr_op(privcmd, pv, enable, mode=7)),
        "enable unknown position mode": outcome(
            lambda: raw_rr_op(privcmd, pv, enable, mode=1, position_mode=5)),
        "enable unknown flags": outcome(
            lambda: raw_rr_op(privcmd, pv, enable, mode=1,
                              flags=lib.XEN_RR_ENABLE_crew << 1)),
        "non-zero padding": outcome(lambda: raw_rr_op(privcmd, pv, enable, pad=1, mode=1)),
        "unknown sub-op": outcome(lambda: raw_rr_op(privcmd, pv, 0xffff)),
        "enable replay by synchronous entries": outcome(lambda: rr.enable(
            pv, mode=lib.XEN_RR_MODE_replay)),
        "enable branch positions": enabled_and_undone(
            privcmd, rr, pv, position_mode=lib.XEN_RR_POSITION_branch),
        "enable huge shadow pool": outcome(lambda: rr.enable(pv, shadow_mb=1 << 30)),
        "stats of a missing vCPU": outcome(lambda: rr.vcpu_stats(pv, 99)),
        "mode before enable": rr.stats(pv).mode,
        "ring while off": outcome(lambda: rr.ring(pv, 0)),
        "enable paused PV": outcome(lambda: rr.enable(pv)),
        "mode after enable": rr.stats(pv).mode,
        "ring without CREW": outcome(lambda: rr.ring(pv, 0)),
        "shadow pool after enable": rr.stats(pv).shadow_mb,
        "enable twice": outcome(lambda: rr.enable(pv)),
        "disable": outcome(lambda: rr.disable(pv)),
        "mode after disable": rr.stats(pv).mode,
        "shadow pool after disable": rr.stats(pv).shadow_mb,
        "disable twice": outcome(lambda: rr.disable(pv)),
        "enable on shared shadows": outcome(lambda: rr.enable(pv)),
        "shadow off": outcome(lambda: disable_shadow(privcmd, pv)),
        "shadow pool after shadow off": rr.stats(pv).shadow_mb,
        "enable again": outcome(lambda: rr.enable(pv)),
        "disable again": outcome(lambda: rr.disable(pv)),
        "shadow off again": outcome(lambda: disable_shadow(privcmd, pv)),
        "enable with CREW": outcome(lambda: rr.enable(pv, crew=True)),
        "ring frames": rr.ring(pv, 0).frames,
        "ring of a missing vCPU": outcome(lambda: rr.ring(pv, 99)),
        "disable CREW": outcome(lambda: rr.disable(pv)),
        "enable dom0": outcome(lambda: rr.enable(0)),
        "enable a missing domain": outcome(lambda: rr.enable(7777)),
    }


def disable_while_running(privcmd, rr: RrControl, guest) -> dict:
    results = {}
    deadline = time.monotonic() + 120

    def running():
        stats = rr.stats(guest.domid)
        return stats.totals()["position"] >= 10000 and min(v.shadows for v in stats.vcpus)
    while not running() and time.monotonic() < deadline:
        time.sleep(0.5)
    results["position before disable"] = rr.stats(guest.domid).totals()["position"]
    results["own shadows before disable"] = [v.shadows for v in rr.stats(guest.domid).vcpus]
    results["disable while running"] = outcome(lambda: rr.disable(guest.domid))
    stats = rr.stats(guest.domid)
    results["shared shadows after disable"] = {
        "pool": stats.shadow_mb, "own shadows": [v.shadows for v in stats.vcpus]}
    results["run after disable"] = finish_guest(privcmd, guest).as_dict()
    return results


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
