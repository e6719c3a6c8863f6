"""What the replay lab tests share: a micro-guest recorded, a trace rewritten, a replay."""

import json
from collections.abc import Callable

from xenrr.formats import EndOfTrace, TraceWriter
from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import PRESERVE, record_guest, trace_path

TIMEOUT = 600


def record_micro(lab, workload: str, vcpus: int, name: str, iterations: int | None = None,
                 stall: float | None = None):
    """A micro-guest recorded by branch count into NAME.xrr: its config, trace and report.

    With stall, the recorder is stopped for that many seconds once the guest
    has started its workload (record_guest())."""
    cfg = micro.config(workload, vcpus=vcpus, iterations=iterations)
    started = f"grep -q 'workload name=' /var/log/xen/console/guest-{cfg.stem}.log"
    rec = record_guest(lab, cfg, name, timeout=TIMEOUT, guest=cfg.stem,
                       options=("--positions", "branch"), stall=stall,
                       once=started if stall else None)
    assert rec.result.returncode == 0, rec.result.stderr + rec.console
    recorded = report.parse(rec.console)
    assert recorded.passed, rec.console
    return cfg, rec.trace, recorded


def replay(lab, cfg, trace):
    """`xenrr replay --json`, and what the guest printed on its console meanwhile."""
    log = f"/var/log/xen/console/guest-{cfg.stem}.log"
    lab.run(["sh", "-c", f": > {log}"])
    result = lab.run(["xenrr", "replay", "--json", str(cfg), str(lab.share.in_dom0(trace)),
                      *PRESERVE], timeout=TIMEOUT)
    lab.run(["xl", "destroy", cfg.stem])
    return result, lab.run(["cat", log]).stdout


def replay_as_recorded(lab, cfg, trace, recorded) -> dict:
    """Replay the trace, which must end as recorded: the guest's result and digest, and the
    end state xenrr compares. Returns `--json`'s summary."""
    result, console = replay(lab, cfg, trace)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["divergence"] is None and summary["unreached"] == 0, summary
    replayed = report.parse(console)
    assert replayed.passed, console
    assert (replayed.digest, replayed.result) == (recorded.digest, recorded.result)
    assert summary["final"]["replayed"] == summary["final"]["recorded"], summary["final"]
    return summary


def rewrite(lab, records: list, name: str, change: Callable):
    """NAME.xrr: a trace's records (its header first) each as change() returns it, None
    leaving it out; without the end_of_trace, so that only Xen can tell."""
    path = trace_path(lab, name)
    with TraceWriter(path, header=records[0]) as writer:
        for r in records[1:]:
            r = change(r)
            if r is not None and not isinstance(r, EndOfTrace):
                writer.write(r)
    return path
