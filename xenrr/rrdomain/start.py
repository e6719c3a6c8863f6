"""A PV domain's start read from Xen (formats.startstate.StartState), and two starts compared.

The start is its machine frames by pfn, what they hold, its vCPUs'
registers, and the frame of its shared_info, a page of Xen's whose machine
address start_info tells the guest.

A PV guest sees machine frame numbers (in its page tables, its p2m, its
start_info, and whatever it computes from them), so a replay must start on
the frames its recording started on, holding the same bytes, with every
vCPU's registers the same. Recording reads this before the guest's first
instruction and keeps it in the trace (StartFrames, StartContents and
VcpuState records); replay reads it again from the domain it built on the
planned frames (replay/frames.py), gives back their recorded bytes to the
frames that hold other leftovers (write_contents), and compares, before the
guest runs.
"""

import dataclasses

from xenrr.formats import INVALID_MFN
from xenrr.formats.startstate import StartState, frame_digest
from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.domctl import getvcpucontext, page_types
from xenrr.hypercalls.foreign import read_frames, write_frames
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl

# Differences named one by one in a report, at most; the rest are counted.
SHOWN = 8

# The entries of a PV guest's L4 page tables in Xen's reserved range: Xen
# writes them (its own mappings, the domain's per-domain area, the linear
# map) and they name Xen's pages, so they differ from one domain to the
# next. Digests leave them out, as the migration stream does.
L4_SHIFT, ENTRY = 39, 8
XEN_L4_SLOTS = slice(((lib.__HYPERVISOR_VIRT_START >> L4_SHIFT) & 511) * ENTRY,
                     ((lib.__HYPERVISOR_VIRT_END >> L4_SHIFT) & 511) * ENTRY)


def guest_bytes(frame: bytes, page_type: int) -> bytes:
    """What of a frame is the guest's: all of it, but Xen's slots of an L4 page table."""
    if page_type & lib.XEN_DOMCTL_PFINFO_LTABTYPE_MASK != lib.XEN_DOMCTL_PFINFO_L4TAB:
        return frame
    ours = bytearray(frame)
    ours[XEN_L4_SLOTS] = bytes(XEN_L4_SLOTS.stop - XEN_L4_SLOTS.start)
    return bytes(ours)


def read_memory(privcmd: Privcmd, domid: int) -> tuple[tuple[int, ...], tuple[int, ...], dict]:
    """A paused PV domain's frames by pfn (INVALID_MFN where none), the digest of each
    (0 where none), and the guest's bytes of each digest, read through foreign mappings."""
    mfns = tuple(INVALID_MFN if m == lib.XEN_RR_NO_FRAME else m
                 for m in RrControl(privcmd).frames(domid))
    present = [m for m in mfns if m != INVALID_MFN]
    types = page_types(privcmd, domid, present)
    found, contents = {}, {}
    for mfn, frame, kind in zip(present, read_frames(privcmd, domid, present), types):
        ours = guest_bytes(frame, kind)
        found[mfn] = digest = frame_digest(ours)
        contents.setdefault(digest, ours)
    return mfns, tuple(found.get(m, 0) for m in mfns), contents


def read_start(privcmd: Privcmd, domid: int, vcpus: int) -> StartState:
    """The state of a paused PV domain: its frames read through foreign mappings."""
    mfns, digests, contents = read_memory(privcmd, domid)
    contexts = tuple(getvcpucontext(privcmd, domid, v) or b"" for v in range(vcpus))
    return StartState(mfns, digests, contexts, RrControl(privcmd).shared_info(domid), contents)


def write_contents(privcmd: Privcmd, domid: int, recorded: StartState,
                   found: StartState) -> StartState:
    """`found` once the recorded bytes are written into its plain frames that hold others.

    Only a frame at the pfn and mfn the recording had, of no page-table or
    descriptor type, is written (Xen would not map another writable); any
    difference left is for `differences` to report.
    """
    wrong = [p for p, (mfn, was, now) in enumerate(zip(found.mfns, recorded.digests, found.digests))
             if mfn != INVALID_MFN and was != now and p < len(recorded.mfns)
             and recorded.mfns[p] == mfn and was in recorded.contents]
    types = page_types(privcmd, domid, [found.mfns[p] for p in wrong])
    plain = [p for p, kind in zip(wrong, types)
             if kind & lib.XEN_DOMCTL_PFINFO_LTAB_MASK == lib.XEN_DOMCTL_PFINFO_NOTAB]
    if not plain:
        return found
    mfns = [found.mfns[p] for p in plain]
    write_frames(privcmd, domid, mfns, [recorded.contents[recorded.digests[p]] for p in plain])
    digests = list(found.digests)
    for p, frame in zip(plain, read_frames(privcmd, domid, mfns)):
        digests[p] = frame_digest(frame)
    return dataclasses.replace(found, digests=tuple(digests))


def _fields(ctype: str, base: int = 0, path: str = ""):
    for name, f in ffi.typeof(ctype).fields if isinstance(ctype, str) else ctype.fields:
        where = f"{path}.{name}" if path else name
        if f.type.kind == "struct":
            yield from _fields(f.type, base + f.offset, where)
        else:
            yield base + f.offset, ffi.sizeof(f.type), where


def register_at(offset: int) -> str:
    """The vcpu_guest_context member holding byte `offset` (user_regs.rip, ctrlreg, ...)."""
    for start, size, where in _fields("struct vcpu_guest_context"):
        if start <= offset < start + size:
            return where
    return f"byte {offset}"


def differences(recorded: StartState, found: StartState) -> list[str]:
    """Where the domain built for replay does not start as the recording did, one line each."""
    out = []
    if len(recorded.mfns) != len(found.mfns):
        out.append(f"the recording had pfns 0-{len(recorded.mfns) - 1:#x}, "
                   f"this domain has 0-{len(found.mfns) - 1:#x}")
    pairs = list(zip(recorded.mfns, found.mfns))
    moved = [pfn for pfn, (a, b) in enumerate(pairs) if a != b]
    if moved:
        out.append(_listed("frames differ", [f"pfn {p:#x}: recorded mfn {recorded.mfns[p]:#x}, "
                                             f"here {found.mfns[p]:#x}" for p in moved]))
    moved_set = set(moved)
    changed = [pfn for pfn, (a, b) in enumerate(zip(recorded.digests, found.digests))
               if a != b and pfn not in moved_set]
    if changed:
        out.append(_listed("frame contents differ",
                           [f"pfn {p:#x} (mfn {found.mfns[p]:#x})" for p in changed]))
    if recorded.shared_info != found.shared_info:
        out.append(f"shared_info is on mfn {found.shared_info:#x}, was on "
                   f"{recorded.shared_info:#x}")
    if len(recorded.contexts) != len(found.contexts):
        out.append(f"the recording had {len(recorded.contexts)} vCPUs, "
                   f"this domain has {len(found.contexts)}")
    for v, (a, b) in enumerate(zip(recorded.contexts, found.contexts)):
        if not a or not b:
            if a or b:
                out.append(f"vCPU {v} was {_up(a)} when recorded, is {_up(b)} here")
        elif a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            out.append(f"vCPU {v}'s registers differ, first in {register_at(at)}")
    return out


def _up(context: bytes) -> str:
    return "up" if context else "down"


def _listed(what: str, items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{what} at {len(items)} pfns: {'; '.join(items[:SHOWN])}{more}"
