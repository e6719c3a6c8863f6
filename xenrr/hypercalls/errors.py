"""What can go wrong talking to Xen, as messages a user can act on.

Xen answers a hypercall with an errno; what that errno means depends on
what was asked (EPERM from get_info means "not privileged", from enable it
means "this domain cannot be recorded"). Each operation passes its own
table of meanings to `raise_for`; what no table covers gets the errno's
name and the operation, never a traceback.
"""

import errno
import os

from xenrr.errors import HypercallError


class NoXenError(HypercallError):
    """Not running in a Xen domain with the privcmd driver."""


class NotPrivilegedError(HypercallError):
    """The caller may not make this hypercall (not root, or not dom0)."""


class NoXenrrSupportError(HypercallError):
    """The hypervisor does not know XEN_DOMCTL_rr_op."""


class InterfaceMismatchError(HypercallError):
    """Xen speaks another version of an interface than xenrr was built for."""


class NoSuchDomainError(HypercallError):
    """The named domain does not exist."""


class DomainStateError(HypercallError):
    """The domain is not in a state that allows the operation."""


class PositionModeError(HypercallError):
    """This machine's Xen cannot count positions the way asked (branch counts)."""


NO_XENRR = ("this hypervisor has no xenrr support (XEN_DOMCTL_rr_op is unknown to it): "
            "boot one built with hypervisor-patches/ (`make xen`)")

# errno -> (exception class, message) for any domctl; operations refine these.
DOMCTL_ERRORS = {
    errno.EACCES: (InterfaceMismatchError,
                   "Xen rejected the domctl interface version: xenrr speaks version 0x15 "
                   "(Xen 4.17)"),
    errno.ESRCH: (NoSuchDomainError, "no such domain"),
    errno.EPERM: (NotPrivilegedError, "Xen refused: only dom0, as root, may do this"),
}


def raise_for(err: int, what: str, meanings: dict[int, tuple[type, str]] | None = None):
    """Raise the exception that errno `err` means for operation `what`.

    The exception keeps the errno (`.errno`) for callers that act on it.
    """
    table = {**DOMCTL_ERRORS, **(meanings or {})}
    cls, message = table.get(err, (HypercallError, None))
    if message is None:
        name = errno.errorcode.get(err, str(err))
        message = f"Xen refused ({name}: {os.strerror(err)})"
    error = cls(f"{what}: {message}")
    error.errno = err
    raise error
