"""Recording the lab's Linux domU with `xenrr record` in the lab's dom0, from the host.

The trace is written into the lab share's files/ (xenrr's cache is
read-only in dom0), so the host reads and checks it at native speed. The
domain is kept after it powers off so that its console can be read whole,
then destroyed.
"""

from dataclasses import dataclass
from pathlib import Path

from xenrr.lab.session import CommandResult, LabSession

PRESERVE = ('on_poweroff="preserve"', 'on_crash="preserve"', 'on_reboot="preserve"')
GUEST = "xenrr-guest"


@dataclass
class LabRecording:
    result: CommandResult   # of `xenrr record`
    trace: Path             # on the host
    console: str            # what the guest printed


def trace_path(lab: LabSession, name: str) -> Path:
    """NAME.xrr in the lab share, on the host's side, with no earlier trace of that name."""
    trace = lab.share.files / f"{name}.xrr"
    for stale in (trace, trace.with_name(trace.name + ".partial")):
        stale.unlink(missing_ok=True)
    return trace


def record_guest(lab: LabSession, cfg: Path, name: str, timeout: float = 900,
                 stop_after: float | None = None, guest: str = GUEST,
                 options: tuple[str, ...] = (), once: str | None = None,
                 stall: float | None = None) -> LabRecording:
    """Record the guest of cfg (domain name `guest`) from its first instruction into NAME.xrr.

    To its power-off; or, with stop_after, for that many seconds, then stopped
    with SIGINT as a user's Ctrl-C, after which the guest runs on unrecorded
    until it shuts down (or crashes). With stall, the recorder is first stopped
    (SIGSTOP) for that many seconds, as one that falls behind, then continued.
    Both count from when the shell condition `once` first holds, if given: how
    fast a guest boots under recording varies too much for a fixed time.
    `options` go to `xenrr record` (e.g. --positions branch).
    """
    trace = trace_path(lab, name)
    console_log = f"/var/log/xen/console/guest-{guest}.log"
    lab.run(["sh", "-c", f": > {console_log}"])
    argv = ["xenrr", "record", "-q", *options, "-c", str(cfg), "-o",
            str(lab.share.in_dom0(trace)), *PRESERVE]
    if stop_after is not None or stall is not None:
        wait = f"until {once} || ! kill -0 $pid 2>/dev/null; do sleep 1; done; " if once else ""
        stalled = f"kill -STOP $pid; sleep {stall}; kill -CONT $pid; " if stall else ""
        stop = f"sleep {stop_after}; kill -INT $pid; " if stop_after is not None else ""
        argv = ["sh", "-c", f'"$@" & pid=$!; {wait}{stalled}{stop}wait $pid; '
                f'rc=$?; while xl list {guest} 2>/dev/null | awk \'NR == 2 {{ print $5 }}\' '
                f'| grep -qv "[sc]"; do sleep 1; done; exit $rc',
                "record", *argv]
    result = lab.run(argv, timeout=timeout)
    console = lab.run(["cat", console_log]).stdout
    lab.run(["xl", "destroy", guest])
    return LabRecording(result, trace, console)
