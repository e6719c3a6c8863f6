"""Naming domains: every xenrr command takes a domain by name or by id, as xl does.

Creating one goes through xl, so that a domain xenrr records or runs is built
exactly as `xl create` builds it.
"""

import os
import subprocess
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from xenrr.errors import ToolstackError, UsageError
from xenrr.formats.enums import ConfigKind
from xenrr.hypercalls.domctl import DomainInfo, getdomaininfo
from xenrr.hypercalls.errors import DomainStateError, NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenstore import Xenstore, XenstoreError

if TYPE_CHECKING:
    from xenrr.domconfig import DomainConfig

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


def xl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["xl", *args], capture_output=True, text=True)


def xl_said(text: str) -> str:
    """What xl printed, in one line: its lines joined, "Parsing config from" dropped."""
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith("Parsing config from ")]
    return "; ".join(lines) or "(xl said nothing)"


def destroy(domid: int) -> None:
    """Destroy the domain if it still exists (whatever state it is in)."""
    xl("destroy", str(domid))


def create_paused(privcmd: Privcmd, config: "DomainConfig") -> Domain:
    """Create the domain as `xl create -p CFG KEY=VALUE...` does: built completely, not run.

    config is an xl file with its overrides (DomainConfig.from_xl_file), whose
    name comes from its one parse. Paused so that a mode (rr, shadow) is set
    before its first instruction. A name already in use is refused before xl
    runs, since xl would fail only after building most of the domain.
    """
    if config.kind != ConfigKind.XL:
        raise ValueError(f"xl creates a domain from an xl file, not from {config.kind.name}")
    name = config.name
    try:
        resolve(privcmd, name)
        raise DomainStateError(f"a domain named {name} already exists")
    except NoSuchDomainError:
        pass
    proc = xl("create", "-p", os.fspath(config.path), *config.overrides)
    if proc.returncode != 0:
        raise ToolstackError(f"xl create {os.fspath(config.path)} failed: "
                             f"{xl_said(proc.stderr or proc.stdout)}")
    return resolve(privcmd, name)
