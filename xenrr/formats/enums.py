"""Value tables of the enumerated record fields (trace-format.md, "Values").

Explicit numbers only; the record definitions, the C header, the spec tables
and the pretty-printer all read these classes, and MEANING (at the end) says
what each value means for the spec's tables and the header's comments.
"""

from enum import IntEnum

# Actor ids: vCPU ids count up from 0; devices that write guest memory
# (backends doing DMA, spec "Actors") are numbered from here up.
ACTOR_DEVICE_BASE = 0xFFFF0000

# digest.flags
DIGEST_MEMORY = 0x1

# start_frames entries: the mfn of a pfn the domain has no frame at (Xen's INVALID_MFN)
INVALID_MFN = 0xFFFFFFFFFFFFFFFF


class GuestType(IntEnum):
    """The kind of domain recorded."""

    PV = 1
    PVH = 2
    HVM = 3


class PositionMode(IntEnum):
    """What position.count counts (docs/architecture.md, "Positions")."""

    SYNC_ENTRY = 1
    BRANCH = 2


class CrewState(IntEnum):
    """An actor's CREW access to a guest frame."""

    NONE = 0
    CR = 1
    EW = 2


class InputKind(IntEnum):
    """Which piece of guest-visible state Xen published at a position."""

    EVTCHN_PENDING = 1
    UPCALL_PENDING = 2
    RUNSTATE = 3
    WALLCLOCK = 4
    UPCALL = 5
    WAKE = 6


class DmaKind(IntEnum):
    """How a device actor's bytes reached guest memory."""

    GRANT_COPY = 1
    GRANT_MAP = 2
    FOREIGN_MAP = 3


class XenFrameKind(IntEnum):
    """A page of Xen's that a PV guest knows by its machine frame number."""

    SHARED_INFO = 1


class ContextFormat(IntEnum):
    """The layout of an initial vCPU context blob."""

    X86_64_PV = 1
    HVM_SAVE_CPU = 2


class ConfigKind(IntEnum):
    """What trace_header.config holds: the recorded domain's configuration, in which form."""

    UNTAGGED = 0
    XL = 1
    XL_JSON = 2
    LIBVIRT_XML = 3


class EndReason(IntEnum):
    """Why the recording stopped."""

    STOPPED = 1
    SHUTDOWN = 2
    CRASHED = 3
    ERROR = 4


ENUMS = (GuestType, PositionMode, CrewState, InputKind, DmaKind, XenFrameKind, ContextFormat,
         ConfigKind, EndReason)

MEANING = {  # enum class -> member name -> what the value means
    GuestType: {
        "PV": "paravirtualised guest",
        "PVH": "PVH guest (translated, no device model)",
        "HVM": "HVM guest (shadow paging, hap=0)",
    },
    PositionMode: {
        "SYNC_ENTRY": "synchronous guest entries into Xen",
        "BRANCH": "retired conditional branches (hardware PMU)",
    },
    CrewState: {
        "NONE": "no access (the frame is held by nobody yet, or by others)",
        "CR": "concurrent read",
        "EW": "exclusive write",
    },
    InputKind: {
        "EVTCHN_PENDING": "evtchn_pending words of shared_info",
        "UPCALL_PENDING": "vcpu_info.evtchn_upcall_pending and pending_sel",
        "RUNSTATE": "the vCPU's registered runstate area",
        "WALLCLOCK": "shared_info wc_* fields",
        "UPCALL": "an event upcall injected (a bounce frame to the guest's callback); no data",
        "WAKE": "a vCPU that blocked (SCHEDOP_block, SCHEDOP_poll) resumed; no data",
    },
    DmaKind: {
        "GRANT_COPY": "GNTTABOP_copy into a guest frame",
        "GRANT_MAP": "a grant mapping, contents taken at unmap",
        "FOREIGN_MAP": "a dom0 foreign mapping (console, xenstore rings)",
    },
    XenFrameKind: {
        "SHARED_INFO": "the domain's shared_info page, whose address start_info gives",
    },
    ContextFormat: {
        "X86_64_PV": "struct vcpu_guest_context (x86_64), as XEN_DOMCTL_getvcpucontext",
        "HVM_SAVE_CPU": "struct hvm_hw_cpu, as the HVM CPU save record",
    },
    ConfigKind: {
        "UNTAGGED": "not said: xl configuration text, `xl list -l` JSON or libvirt "
                    "domain XML",
        "XL": "an xl configuration file's text, with xl create's KEY=VALUE overrides "
              "appended as xl appends them",
        "XL_JSON": "`xl list -l DOMID` of the running domain: libxl's domain configuration "
                   "as JSON",
        "LIBVIRT_XML": "the libvirt domain XML libvirt's libxl driver started the domain from",
    },
    EndReason: {
        "STOPPED": "the recorder was asked to stop",
        "SHUTDOWN": "the guest shut down",
        "CRASHED": "the guest crashed",
        "ERROR": "the recorder failed",
    },
}


def meaning(value: IntEnum) -> str:
    """What an enumerated value means (IntEnums of equal value compare equal, so key by class)."""
    return MEANING[type(value)][value.name]
