"""XEN_SYSCTL: questions about the whole host, such as how much memory Xen has free."""

from dataclasses import dataclass

from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.privcmd import Privcmd


@dataclass(frozen=True)
class PhysInfo:
    total_pages: int
    free_pages: int
    scrub_pages: int


def physinfo(privcmd: Privcmd) -> PhysInfo:
    """Xen's page counts; free_pages is exact, so a leak of one page shows."""
    privcmd.buffer.clear()
    s = privcmd.buffer.view("struct xen_sysctl")
    s.cmd = lib.XEN_SYSCTL_physinfo
    s.interface_version = lib.XEN_SYSCTL_INTERFACE_VERSION
    privcmd.hypercall(lib.__HYPERVISOR_sysctl, privcmd.buffer.addr, what="Xen's memory")
    info = s.u.physinfo
    return PhysInfo(info.total_pages, info.free_pages, info.scrub_pages)
