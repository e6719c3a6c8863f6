"""Naming domains: every xenrr command takes a domain by name or by id, as xl does."""

from dataclasses import asdict, dataclass

from xenrr.errors import UsageError
from xenrr.hypercalls.domctl import DomainInfo, getdomaininfo
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenstore import Xenstore, XenstoreError

MAX_DOMID = 0x7FEF  # DOMID_FIRST_RESERVED - 1


@dataclass(frozen=True)
class Domain:
    domid: int
    name: str
    info: DomainInfo


def _name_of(xs: Xenstore, domid: int) -> str:
    try:
        return xs.read(f"/local/domain/{domid}/name")
    except XenstoreError:
        return "" if domid else "Domain-0"


def resolve(privcmd: Privcmd, spec: str) -> Domain:
    """The domain `spec` names: a domain id, or a name xenstore knows."""
    with Xenstore() as xs:
        if spec.isdigit():
            domid = int(spec)
            if domid > MAX_DOMID:
                raise UsageError(f"{spec}: not a domain id (0 to {MAX_DOMID})")
            return Domain(domid, _name_of(xs, domid), getdomaininfo(privcmd, domid))
        for entry in xs.directory("/local/domain"):
            if entry.isdigit() and _name_of(xs, int(entry)) == spec:
                try:
                    return Domain(int(entry), spec, getdomaininfo(privcmd, int(entry)))
                except NoSuchDomainError:
                    break  # a stale xenstore entry of a domain that is gone
    raise NoSuchDomainError(f"no domain named {spec!r}")


def status_snapshot(privcmd: Privcmd, spec: str) -> dict:
    """A domain's rr mode and counters, per vCPU and in total (`xenrr status --json`)."""
    domain = resolve(privcmd, spec)
    stats = RrControl(privcmd).stats(domain.domid)
    return {"domid": domain.domid, "name": domain.name, "state": domain.info.state,
            "mode": stats.mode, "nr_vcpus": stats.nr_vcpus, "shadow_mb": stats.shadow_mb,
            "vcpus": [asdict(v) for v in stats.vcpus], "totals": stats.totals()}
