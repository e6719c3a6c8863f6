"""Value tables of the enumerated record fields (trace-format.md, "Values").

Explicit numbers only; the record definitions, the C header, the spec tables
and the pretty-printer all read these classes.
"""

from enum import IntEnum

# Actor ids: vCPU ids count up from 0; devices that write guest memory
# (backends doing DMA, spec "Actors") are numbered from here up.
ACTOR_DEVICE_BASE = 0xFFFF0000

# digest.flags
DIGEST_MEMORY = 0x1


class GuestType(IntEnum):
    """The kind of domain recorded."""

    PV = 1
    PVH = 2
    HVM = 3


class PositionMode(IntEnum):
    """What position.count counts (ARCHITECTURE.md, "Positions")."""

    SYNC_ENTRY = 1  # synchronous guest entries into Xen
    BRANCH = 2      # retired conditional branches (hardware PMU)


class CrewState(IntEnum):
    """An actor's CREW access to a guest frame."""

    NONE = 0  # no access (the frame is held by nobody yet, or by others)
    CR = 1    # concurrent read
    EW = 2    # exclusive write


class InputKind(IntEnum):
    """Which piece of guest-visible state Xen published at a position."""

    EVTCHN_PENDING = 1  # evtchn_pending words of shared_info
    UPCALL_PENDING = 2  # vcpu_info.evtchn_upcall_pending and pending_sel
    RUNSTATE = 3        # the vCPU's registered runstate area
    WALLCLOCK = 4       # shared_info wc_* fields


class DmaKind(IntEnum):
    """How a device actor's bytes reached guest memory."""

    GRANT_COPY = 1   # GNTTABOP_copy into a guest frame
    GRANT_MAP = 2    # a grant mapping, contents taken at unmap
    FOREIGN_MAP = 3  # a dom0 foreign mapping (console, xenstore rings)


class ContextFormat(IntEnum):
    """The layout of an initial vCPU context blob."""

    X86_64_PV = 1     # struct vcpu_guest_context (x86_64), as XEN_DOMCTL_getvcpucontext
    HVM_SAVE_CPU = 2  # struct hvm_hw_cpu, as the HVM CPU save record


class EndReason(IntEnum):
    """Why the recording stopped."""

    STOPPED = 1   # the recorder was asked to stop
    SHUTDOWN = 2  # the guest shut down
    CRASHED = 3   # the guest crashed
    ERROR = 4     # the recorder failed
