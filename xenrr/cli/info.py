"""`xenrr info`: the running hypervisor and what its xenrr support can do."""

import json

import typer

from xenrr.hypercalls.errors import NoXenrrSupportError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import POSITION_FEATURES, RrControl, RrInfo
from xenrr.hypercalls.xenver import xen_version

app = typer.Typer(add_completion=False, rich_markup_mode=None)


def position_modes(rr: RrInfo) -> dict[str, dict]:
    """Each position mode (the names `xenrr record --positions` takes): offered or why not;
    branch with Xen's status, event select and skid."""
    modes = {}
    for name, feature in POSITION_FEATURES.items():
        offered = feature in rr.features
        reason = None if offered else (rr.branch_reason if name == "branch"
                                       else "Xen does not offer it")
        modes[name] = {"offered": offered, "reason": reason}
    modes["branch"].update(status=rr.branch_status, event=rr.branch_event, skid=rr.branch_skid)
    return modes


def position_lines(rr: RrInfo) -> list[str]:
    """Each position mode: offered (branch with its event and skid), or why not."""
    lines = []
    for name, mode in position_modes(rr).items():
        if not mode["offered"]:
            lines.append(f"{name}: not offered: {mode['reason']}")
        elif name == "branch":
            skid = rr.branch_skid
            lines.append(f"branch (event {rr.branch_event:#x}, skid {skid} "
                         f"branch{'' if skid == 1 else 'es'})")
        else:
            lines.append(name)
    return lines


@app.command(help="""Show the hypervisor's version and its xenrr interface, features and
position modes (what `xenrr record --positions` may name on this machine).

\b
--json prints one object:
  xen:   version, major, minor, extra, changeset
  xenrr: interface_version, features, max_vcpus
  position_modes: "sync-entry" and "branch", each with
      offered: true or false,
      reason: why not, a sentence (null when offered);
    and branch also with
      status: available, or why not (no_counter, self_test,
              speclockmap, busy),
      event: the event select Xen programs (0: none),
      skid: branches an overflow interrupt may come late""")
def info(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
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
                      "features": sorted(rr.features), "max_vcpus": rr.max_vcpus},
            "position_modes": position_modes(rr)}))
        return
    print(f"hypervisor:       Xen {version} ({version.changeset or 'no changeset'})")
    print(f"xenrr interface:  {rr.interface_version}")
    print(f"features:         {', '.join(sorted(rr.features)) or 'none'}")
    print(f"max vCPUs:        {rr.max_vcpus} per domain")
    for i, line in enumerate(position_lines(rr)):
        print(f"{'positions:' if i == 0 else '':<18}{line}")
