"""Run inside the lab's dom0: frame plans against a live domain, and the refusals of the ops.

Usage: python frame_plan.py GUEST_CFG. Prints one JSON object: what a plan
of a live domain's own frames reports, whether those frames still belong
to it afterwards, and the errno of each malformed request.
python frame_plan.py --frames-of NAME prints the domain's mfns by pfn;
python frame_plan.py --bytes-of NAME PFN prints the hex of that pfn's frame.
Everything goes through xenrr's own hypercall layer.
"""

import json
import sys
import uuid
from pathlib import Path

from rr_checks import outcome, paused_domain

from xenrr.domains import resolve
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.domctl import domctl
from xenrr.hypercalls.foreign import read_frames
from xenrr.hypercalls.privcmd import HypercallBuffer, Privcmd
from xenrr.hypercalls.rr import RrControl

HANDLE = uuid.uuid4().bytes


def raw_frames_op(privcmd, domid: int, op: int, entries=(), handle=HANDLE,
                  **fields) -> list[int]:
    """A get_frames or plan_frames with fields xenrr's own API would never send."""
    buffer = HypercallBuffer()
    mfns = buffer.view("uint64_t")
    for i, mfn in enumerate(entries):
        mfns[i] = mfn

    def fill(u):
        u.rr_op.op = op
        f = u.rr_op.u.frames
        f.mfns = buffer.addr
        ffi.memmove(f.handle, handle, 16)
        for name, value in fields.items():
            setattr(f, name, value)
    domctl(privcmd, lib.XEN_DOMCTL_rr_op, domid, fill, what="raw frames op")
    return [mfns[i] for i in range(len(entries))]


def main(cfg: Path) -> dict:
    out = {}
    with Privcmd() as privcmd:
        rr = RrControl(privcmd)
        with paused_domain(cfg, "frame-plan-owner") as domid:
            mfns = rr.frames(domid)
            present = [pfn for pfn, m in enumerate(mfns) if m != lib.XEN_RR_NO_FRAME]
            refused = rr.plan_frames(uuid.uuid4().bytes, mfns, rr.shared_info(domid))
            rr.drop_plan()
            out.update(pfns=len(mfns), frames=len(present),
                       busy=refused.pfns == present and refused.shared_info,
                       still_owned=rr.frames(domid) == mfns)

            new = dict(flags=lib.XEN_RR_PLAN_new, pfns=16, nr=1)
            plan = lib.XEN_DOMCTL_RR_OP_plan_frames
            out["errors"] = {
                "get: flags set": outcome(lambda: raw_frames_op(
                    privcmd, domid, lib.XEN_DOMCTL_RR_OP_get_frames, flags=1)),
                "plan: new and drop": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, flags=lib.XEN_RR_PLAN_new | lib.XEN_RR_PLAN_drop)),
                "plan: unknown flag": outcome(lambda: raw_frames_op(privcmd, 0, plan, flags=4)),
                "plan: no plan to add to": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, nr=1, entries=[lib.XEN_RR_NO_FRAME])),
                "plan: zero pfns": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, flags=lib.XEN_RR_PLAN_new, pfns=0)),
                "plan: huge": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, flags=lib.XEN_RR_PLAN_new, pfns=1 << 40)),
                "plan: past its end": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, **{**new, "start": 16}, entries=[lib.XEN_RR_NO_FRAME])),
                "plan: batch too big": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, **{**new, "nr": lib.XEN_RR_PLAN_BATCH + 1,
                                         "pfns": 4096})),
                "plan: busy bit given": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, **new, entries=[lib.XEN_RR_FRAME_BUSY | 1])),
                "plan: the null handle": outcome(lambda: raw_frames_op(
                    privcmd, 0, plan, **new, handle=bytes(16), entries=[lib.XEN_RR_NO_FRAME])),
                "plan: pad": outcome(lambda: raw_frames_op(privcmd, 0, plan, **new, pad=1,
                                                           entries=[lib.XEN_RR_NO_FRAME])),
            }
            out["no plan left by refusals"] = outcome(lambda: raw_frames_op(
                privcmd, 0, plan, nr=1, entries=[lib.XEN_RR_NO_FRAME])) == "ENOENT"
            answers = raw_frames_op(privcmd, 0, plan, flags=lib.XEN_RR_PLAN_new, pfns=1, nr=1,
                                    entries=[1 << 50])
            out["beyond memory busy"] = answers[0] == (1 << 50) | lib.XEN_RR_FRAME_BUSY
            rr.drop_plan()
        # The owner is gone: its frames are free again, as a recorded domain's are
        # when its replay starts.
        refused = rr.plan_frames(uuid.uuid4().bytes, mfns)
        out["freed frames busy"] = len(refused.pfns)
        out["errors"]["plan: a pfn planned twice"] = outcome(lambda: raw_frames_op(
            privcmd, 0, plan, nr=1, entries=[mfns[present[0]]]))
        rr.drop_plan()
    return out


def frames_of(name: str) -> list[int]:
    with Privcmd() as privcmd:
        return list(RrControl(privcmd).frames(resolve(privcmd, name).domid))


def bytes_of(name: str, pfn: int) -> str:
    with Privcmd() as privcmd:
        domid = resolve(privcmd, name).domid
        frame, = read_frames(privcmd, domid, [RrControl(privcmd).frames(domid)[pfn]])
        return frame.hex()


if __name__ == "__main__":
    if sys.argv[1] == "--frames-of":
        print(json.dumps(frames_of(sys.argv[2])))
    elif sys.argv[1] == "--bytes-of":
        print(json.dumps(bytes_of(sys.argv[2], int(sys.argv[3], 0))))
    else:
        print(json.dumps(main(Path(sys.argv[1]))))
