"""The error hierarchy every xenrr module raises from.

Library code raises only XenrrError subclasses for conditions a user can cause
(bad input, missing tools, a damaged trace, a hypervisor without support);
the CLI turns them into one line on stderr and the exit status they carry.
Anything else escaping to the CLI is a bug in xenrr (exit status 2).
"""


class XenrrError(Exception):
    """A condition the user can act on; str() is the one-line message."""

    exit_status = 1


class UsageError(XenrrError):
    """Bad arguments or input files given to a command."""


class LabError(XenrrError):
    """The QEMU lab could not build, boot or run what was asked."""


class TraceError(XenrrError):
    """A trace file is unreadable, damaged or of an unsupported format."""


class HypercallError(XenrrError):
    """A hypercall failed or the hypervisor cannot do what was asked."""


class ToolstackError(XenrrError):
    """xl, which xenrr asks to create and destroy domains, failed."""


class ModelError(XenrrError):
    """A CREW history or constraint log violates the protocol."""


class ConfigError(XenrrError):
    """A domain configuration file is malformed."""


class LibvirtError(XenrrError):
    """libvirt could not be reached or refused what xenrr asked of it."""
