"""The replayed domain built on the machine frames of its recording.

Xen takes the recorded frames out of its heap for a domain yet to be
created (XEN_DOMCTL_RR_OP_plan_frames), named by the handle `xl create`
gives it: its uuid, which replay sets. The builder's populate_physmap then
gets each frame at the pfn it had. Frames that are not free (another
domain's, Xen's own) are refused by number before anything is created; a
plan is dropped as soon as the domain is built or the attempt fails, so
that frames nobody took go back to Xen.
"""

import contextlib
import uuid
from collections.abc import Iterator, Sequence

from xenrr.domains import Domain, create_paused
from xenrr.domconfig import DomainConfig
from xenrr.errors import XenrrError
from xenrr.formats import INVALID_MFN
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl

# Frames named one by one in a refusal, at most.
SHOWN = 8


class FramesInUseError(XenrrError):
    """Some of the recorded machine frames belong to someone else now."""


@contextlib.contextmanager
def planned(privcmd: Privcmd, handle: uuid.UUID, mfns: Sequence[int],
            shared_info: int) -> Iterator[None]:
    """The frames (by pfn, INVALID_MFN where none), and the one for its shared_info,
    reserved for the domain with `handle` while the block runs."""
    rr = RrControl(privcmd)
    try:
        refused = rr.plan_frames(handle.bytes, [lib.XEN_RR_NO_FRAME if m == INVALID_MFN else m
                                                for m in mfns], shared_info)
        if refused:
            named = [f"{mfns[p]:#x} (pfn {p:#x})" for p in refused.pfns]
            if refused.shared_info:
                named.insert(0, f"{shared_info:#x} (shared_info)")
            more = f" and {len(named) - SHOWN} more" if len(named) > SHOWN else ""
            raise FramesInUseError(
                f"{len(named)} of the recorded machine frames are in use, so the guest cannot "
                f"start where it was recorded: {', '.join(named[:SHOWN])}{more}")
        yield
    finally:
        rr.drop_plan()


def create_on_recorded_frames(privcmd: Privcmd, config: DomainConfig,
                              mfns: Sequence[int], shared_info: int) -> Domain:
    """`xl create -p CONFIG` with every pfn, and its shared_info, on the frame the
    recording had."""
    handle = uuid.uuid4()
    with planned(privcmd, handle, mfns, shared_info):
        ours = DomainConfig.from_xl_file(config.path, (*config.overrides, f'uuid="{handle}"'))
        return create_paused(privcmd, ours)
