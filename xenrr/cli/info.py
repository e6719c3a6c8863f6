"""`xenrr info`: the running hypervisor and what its xenrr support can do."""

import json

import typer

from xenrr.hypercalls.errors import NoXenrrSupportError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.hypercalls.xenver import xen_version

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def info(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the hypervisor's version and its xenrr interface and features."""
    with Privcmd() as privcmd:
        version = xen_version(privcmd)
        try:
            rr = RrControl(privcmd).info()
        except NoXenrrSupportError as e:
            raise NoXenrrSupportError(f"Xen {version}: {e}") from None
    if json_out:
        print(json.dumps({
            "xen": {"version": str(version), "major": version.major, "minor": version.minor,
                    "extra": version.extra, "changeset": version.changeset},
            "xenrr": {"interface_version": rr.interface_version,
                      "features": sorted(rr.features), "max_vcpus": rr.max_vcpus}}))
        return
    print(f"hypervisor:       Xen {version} ({version.changeset or 'no changeset'})")
    print(f"xenrr interface:  {rr.interface_version}")
    print(f"features:         {', '.join(sorted(rr.features)) or 'none'}")
    print(f"max vCPUs:        {rr.max_vcpus} per domain")
