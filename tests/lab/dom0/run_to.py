"""Run inside the lab's dom0: the refusals of replay mode and of run_to / get_stop / kick.

Usage: python run_to.py GUEST_CFG. Prints one JSON object: check name ->
"ok" or the errno's name, and where a vCPU given its own start as target
is held. Everything goes through xenrr's own hypercall layer.
"""

import json
import sys
import time
from pathlib import Path

from rr_checks import outcome, paused_domain

from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.domctl import domctl, getvcpucontext, unpause_domain
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl

REPLAY = lib.XEN_RR_MODE_replay
BRANCH = lib.XEN_RR_POSITION_branch


def raw_run_op(privcmd, domid: int, op: int, **fields) -> None:
    """A run_to or get_stop with fields xenrr's own API would never send."""
    def fill(u):
        u.rr_op.op = op
        for name, value in fields.items():
            setattr(u.rr_op.u.run, name, value)
    domctl(privcmd, lib.XEN_DOMCTL_rr_op, domid, fill, what="raw run op")


def start_position(privcmd, domid: int) -> tuple[int, int, int]:
    """vCPU 0's position before its first instruction: no branch yet, its rip and rcx."""
    ctx = ffi.from_buffer("struct vcpu_guest_context *", getvcpucontext(privcmd, domid, 0))
    return 0, ctx.user_regs.rip, ctx.user_regs.rcx


def main(cfg: Path) -> dict:
    out = {}
    with Privcmd() as privcmd:
        rr = RrControl(privcmd)
        run_to, get_stop = lib.XEN_DOMCTL_RR_OP_run_to, lib.XEN_DOMCTL_RR_OP_get_stop
        with paused_domain(cfg, "run-to") as domid:
            out["run_to: rr off"] = outcome(lambda: rr.run_to(domid, 0, (1, 0, 0)))
            out["replay: sync-entry"] = outcome(lambda: rr.enable(
                domid, mode=REPLAY, position_mode=lib.XEN_RR_POSITION_sync_entry))
            out["kick: rr off"] = outcome(lambda: rr.kick(domid))
            rr.enable(domid, mode=REPLAY, position_mode=BRANCH, crew=True)
            out["run_to: CREW replay"] = outcome(lambda: rr.run_to(domid, 0, (1, 0, 0)))
            out["kick: CREW replay"] = outcome(lambda: rr.kick(domid))
            rr.disable(domid)
        # Disabled, a domain stays in shadow mode: recording takes a fresh one.
        with paused_domain(cfg, "run-to") as domid:
            rr.enable(domid, position_mode=BRANCH, crew=True)
            out["run_to: recording"] = outcome(lambda: rr.run_to(domid, 0, (1, 0, 0)))
            out["get_stop: recording"] = outcome(lambda: rr.run_stop(domid, 0))
            out["kick: recording"] = outcome(lambda: rr.kick(domid))
            rr.disable(domid)
        with paused_domain(cfg, "run-to") as domid:
            rr.enable(domid, mode=REPLAY, position_mode=BRANCH)
            out["before any target"] = rr.run_stop(domid, 0).state
            out["run_to: no such vCPU"] = outcome(lambda: rr.run_to(domid, 64, (1, 0, 0)))
            out["get_stop: no such vCPU"] = outcome(lambda: rr.run_stop(domid, 1 << 31))
            out["run_to: state set"] = outcome(lambda: raw_run_op(
                privcmd, domid, run_to, vcpu=0, count=1, state=1))
            here = start_position(privcmd, domid)
            rr.run_to(domid, 0, here)
            stop = rr.run_stop(domid, 0)
            out["at its start"] = {"state": stop.state, "at": list(stop.at) == list(here),
                                   "steps": stop.steps}
            out["get_stop: raw"] = outcome(lambda: raw_run_op(privcmd, domid, get_stop, vcpu=0))
            # The domain runs: held at its start, vCPU 0 does not move.
            unpause_domain(privcmd, domid)
            out["held"] = rr.run_stop(domid, 0).state
            # A target the guest never passes: held where its count went past.
            rr.run_to(domid, 0, (1000, here[1], here[2]))
            deadline = time.monotonic() + 60
            while (stop := rr.run_stop(domid, 0)).state == "running":
                assert time.monotonic() < deadline, "vCPU 0 never passed 1000 branches"
                time.sleep(0.01)
            out["past its count"] = {"state": stop.state, "count": stop.at[0]}
            out["run_to: a passed count"] = outcome(lambda: rr.run_to(domid, 0, (999, 0, 0)))
            rr.disable(domid)
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
