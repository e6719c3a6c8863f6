"""Replay running in the patched hypervisor: a recorded vCPU stopped at every logged position, exactly.

A 1-vCPU micro-guest is recorded with positions by branch count; `xenrr
replay` rebuilds it on its recorded frames and Xen runs it to each
position its trace logged (patch 0013: the counter armed a skid ahead,
single steps the rest), checks it is there, and lets it run on to its
end. The guest's own digest of its memory comes out as recorded. A trace
whose position was moved is a divergence reported at that position, and
Xen carries on.
"""

import json

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json
from xenrr.formats import CrewEvent, EndOfTrace, Position, TraceReader, TraceWriter
from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import PRESERVE, record_guest, trace_path
from xenrr.replay.run import vcpu_positions

pytestmark = pytest.mark.lab

TIMEOUT = 600


def console_log(cfg) -> str:
    return f"/var/log/xen/console/guest-{cfg.stem}.log"


@pytest.fixture(scope="module", params=["branches", "race"])
def recorded(lab, request):
    """A 1-vCPU micro-guest recorded by branch count: its config, trace and console report."""
    cfg = micro.config(request.param, vcpus=1)
    rec = record_guest(lab, cfg, f"replay-run-{request.param}", timeout=TIMEOUT,
                       guest=cfg.stem, options=("--positions", "branch"))
    assert rec.result.returncode == 0, rec.result.stderr + rec.console
    recorded = report.parse(rec.console)
    assert recorded.passed, rec.console
    return cfg, rec.trace, recorded


def replay(lab, cfg, trace):
    """`xenrr replay --json`, and what the guest printed on its console meanwhile."""
    lab.run(["sh", "-c", f": > {console_log(cfg)}"])
    result = lab.run(["xenrr", "replay", "--json", str(cfg), str(lab.share.in_dom0(trace)),
                      *PRESERVE], timeout=TIMEOUT)
    lab.run(["xl", "destroy", cfg.stem])
    return result, lab.run(["cat", console_log(cfg)]).stdout


def test_every_logged_position_is_met_exactly_and_the_guest_computes_what_it_recorded(lab, recorded):
    cfg, trace, recorded_report = recorded
    with TraceReader(trace) as reader:
        positions = vcpu_positions(reader, 0)
    assert len(positions) > 10
    result, console = replay(lab, cfg, trace)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["positions"] == {"0": len(positions)}
    assert summary["divergence"] is None
    # Far targets by the counter's interrupt, the last branches stepped.
    assert summary["counter_interrupts"] > 0 and summary["single_steps"] > 0
    assert summary["ended"] is not None
    replayed = report.parse(console)
    assert replayed.passed, console
    assert (replayed.digest, replayed.result) == (recorded_report.digest, recorded_report.result)
    assert f"replayed {len(positions)} positions of vCPU 0 exactly" in result.stderr
    assert_xen_healthy(lab)


def test_a_moved_position_is_a_divergence_reported_at_that_position(lab, recorded):
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        records = list(reader.records())
        positions = vcpu_positions(reader, 0)
    moved = positions[len(positions) // 2]
    wrong = Position(count=moved.count, rip=moved.rip + 1, rcx=moved.rcx)
    tampered = trace_path(lab, "replay-run-moved")
    with TraceWriter(tampered, header=records[0]) as writer:
        for r in records[1:]:
            if isinstance(r, CrewEvent) and r.position == moved:
                r = CrewEvent(vcpu=r.vcpu, old_state=r.old_state, new_state=r.new_state,
                              gfn=r.gfn, position=wrong)
            if not isinstance(r, EndOfTrace):
                writer.write(r)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 + result.stderr.count("xenrr: vCPU 0: position") + 1, \
        result.stderr
    last = result.stderr.strip().splitlines()[-1]
    index = positions.index(moved) + 1
    assert last.startswith(f"xenrr: vCPU 0 diverged at logged position {index} of "
                           f"{len(positions)}: expected count {moved.count} rip "
                           f"{moved.rip + 1:#x}"), last
    assert "(missed)" in last and "the last that matched: count" in last
    assert json.loads(result.stdout)["divergence"] == last.removeprefix("xenrr: ")
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)


def test_replay_mode_and_run_to_refuse_what_they_cannot_do_with_an_errno(lab):
    out = dom0_json(lab, "run_to.py", micro.config("private", vcpus=1))
    assert out == {
        "run_to: rr off": "ENOENT",
        "replay: sync-entry": "ENOTSUP",
        "replay: crew": "ENOTSUP",
        "run_to: recording": "ENOTSUP",
        "get_stop: recording": "ENOTSUP",
        "before any target": "none",
        "run_to: no such vCPU": "EINVAL",
        "get_stop: no such vCPU": "EINVAL",
        "run_to: state set": "EINVAL",
        # A target where the vCPU is: held there without running a step.
        "at its start": {"state": "stopped", "at": True, "steps": 0},
        "get_stop: raw": "ok",
        "held": "stopped",
        "past its count": {"state": "missed", "count": 1001},
        "run_to: a passed count": "ERANGE",
    }
    assert_xen_healthy(lab)
