"""A PV domain's end state read from Xen (formats.endstate.EndState), once it has ended.

The recorder reads it when the recorded domain has shut down and is still
there; replay reads it from the replayed domain at its end, and compares.
The frames are read as the start's are (rrdomain/start.py); the console
and xenstore rings, which their backends write outside CREW, are left out,
found by the frame numbers the toolstack published in xenstore.
"""

from xenrr.formats import INVALID_MFN
from xenrr.formats.endstate import LEFT_OUT, EndState
from xenrr.formats.registers import REGISTERS
from xenrr.hypercalls.abi import ffi
from xenrr.hypercalls.domctl import getvcpucontext
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.xenstore import Xenstore, XenstoreError
from xenrr.rrdomain.start import read_memory

# The frames a PV domain's backends write, by their xenstore node under
# /local/domain/<domid>/ (the machine frame number, for a PV guest).
RINGS = {"console/ring-ref": "console ring", "store/ring-ref": "xenstore ring"}


def backend_frames(domid: int) -> dict[int, str]:
    """The machine frames the domain's backends write, and what they are."""
    found = {}
    with Xenstore() as xs:
        for node, what in RINGS.items():
            try:
                found[int(xs.read(f"/local/domain/{domid}/{node}"))] = what
            except (XenstoreError, ValueError):
                continue   # no such ring: nothing written behind CREW's back there
    return found


def registers_of(context: bytes) -> dict[str, int]:
    """REGISTERS from a struct vcpu_guest_context of a 64-bit PV vCPU."""
    regs = ffi.from_buffer("struct vcpu_guest_context *", bytearray(context)).user_regs
    return {name: getattr(regs, name) for name in REGISTERS}


def read_end(privcmd: Privcmd, domid: int, vcpus: int) -> EndState:
    """The state of a domain that has ended (shut down, still there)."""
    mfns, digests, _ = read_memory(privcmd, domid)
    rings = backend_frames(domid)
    left_out = {p: rings[m] for p, m in enumerate(mfns) if m != INVALID_MFN and m in rings}
    digests = tuple(LEFT_OUT if p in left_out else d for p, d in enumerate(digests))
    contexts = [getvcpucontext(privcmd, domid, v) for v in range(vcpus)]
    return EndState(mfns, digests, tuple(None if c is None else registers_of(c) for c in contexts),
                    left_out)
