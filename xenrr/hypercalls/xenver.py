"""__HYPERVISOR_xen_version: which Xen is running, and which build of it."""

from dataclasses import dataclass

from xenrr.hypercalls.abi import ffi, lib
from xenrr.hypercalls.privcmd import Privcmd


@dataclass(frozen=True)
class XenVersion:
    major: int
    minor: int
    extra: str
    changeset: str

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}{self.extra}"


def _string(privcmd: Privcmd, cmd: int, ctype: str) -> str:
    privcmd.buffer.clear()
    privcmd.hypercall(lib.__HYPERVISOR_xen_version, cmd, privcmd.buffer.addr,
                      what="Xen version")
    return ffi.string(privcmd.buffer.view(ctype)[0]).decode(errors="replace")


def xen_version(privcmd: Privcmd) -> XenVersion:
    v = privcmd.hypercall(lib.__HYPERVISOR_xen_version, lib.XENVER_version, 0,
                          what="Xen version")
    return XenVersion(v >> 16, v & 0xFFFF,
                      _string(privcmd, lib.XENVER_extraversion, "xen_extraversion_t"),
                      _string(privcmd, lib.XENVER_changeset, "xen_changeset_info_t"))
