"""Per-vCPU shadow page tables of recorded domains, in the patched hypervisor (debug build)."""

import json
import re

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json
from xenrr.lab import micro
from xenrr.lab.guest import results
from xenrr.lab.micro import report

pytestmark = pytest.mark.lab

RUNS = 3   # a longer loop is a stress run: bench/branch_stress.py records many
PRIVATE_ITERATIONS = 60_000_000   # tens of seconds under TCG: time to act from dom0
AT_POSITION_ITERATIONS = 600_000_000   # time to see vCPU 0 in its loop first


def recorded_runs(lab, cfgs) -> list[dict]:
    result = lab.run(["xenrr", "lab", "domu", "--rr", "--json", "--timeout", "300",
                      *map(str, cfgs)], timeout=400 * len(cfgs))
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(runs) == len(cfgs), result.stderr
    return runs


def assert_completed(run: dict) -> None:
    assert run["reason"] == "poweroff", (f"domain {run['domid']}: {run['reason']}; rr counters: "
                                         f"{run['rr']}; vCPUs: {run['hang']}; "
                                         f"console:\n{run['console']}")
    assert results(run["console"])["locked"]["verdict"] == "ok", run["console"]
    assert run["rr"]["mode"] == "record"
    assert all(vcpu["shadows"] > 0 for vcpu in run["rr"]["vcpus"])


def test_the_domu_runs_its_workloads_three_times_in_a_row(lab, linux_cfg):
    for run in recorded_runs(lab, [linux_cfg] * RUNS):
        assert_completed(run)
    assert_xen_healthy(lab)


def audits(lab) -> bool:
    states = re.findall(r"shadow_audit_enable=(\d)", lab.run(["xl", "dmesg"]).stdout)
    return bool(states) and states[-1] == "1"


def test_the_shadow_audits_pass(lab, linux_cfg):
    """Xen's audits (hash, tables, every walk) check the trees against the guest's."""
    if not audits(lab):
        lab.run(["xl", "debug-keys", "O"])
    assert audits(lab)
    try:
        assert_completed(recorded_runs(lab, [linux_cfg])[0])
    finally:
        lab.run(["xl", "debug-keys", "O"])
    assert not audits(lab)
    assert_xen_healthy(lab)


def test_a_frame_can_be_writable_for_one_vcpu_and_absent_for_the_other(lab):
    out = dom0_json(lab, "frame_access.py",
                    micro.config("private", vcpus=2, iterations=PRIVATE_ITERATIONS),
                    timeout=900)
    vcpu0, vcpu1 = out["running"]
    assert (vcpu0["access"], vcpu0["mapped"], vcpu0["entries"]) == ("none", "none", 0)
    assert (vcpu1["access"], vcpu1["mapped"]) == ("rw", "rw")
    assert vcpu1["entries"] >= 1
    # vCPU 0 reached the frame: it faults on it, and its position stands still.
    assert out["stuck"]["shadow_faults_per_second"] > 100
    vcpu0, vcpu1 = out["while stuck"]
    assert (vcpu0["access"], vcpu0["mapped"], vcpu0["entries"]) == ("none", "none", 0)
    assert vcpu1["access"] == "rw"
    # Given back, the frame is read and the guest finishes and checks itself.
    run = out["run"]
    assert run["reason"] == "poweroff", run["console"]
    assert report.parse(run["console"]).passed
    assert_xen_healthy(lab)


def test_a_reduction_waits_for_the_vcpus_next_position(lab):
    out = dom0_json(lab, "reduce_at_position.py",
                    micro.config("private", vcpus=2, iterations=AT_POSITION_ITERATIONS),
                    timeout=900)
    before = out["before"]
    # Asked while vCPU 0 runs its loop (no entry into Xen): it waits.
    requested = out["requested"]
    assert (requested["pending"], requested["access"]) == ("none", "rw")
    assert out["stats when requested"]["reductions"] == before["reductions"] == 0
    # It took effect at the first synchronous entry after the loop, and held.
    after = out["after"]
    assert after["reductions"] == 1
    assert after["reduction_position"] == before["position"] + 1
    assert out["stuck"]["shadow_faults_per_second"] > 100
    applied = out["applied"]
    assert (applied["pending"], applied["access"], applied["mapped"],
            applied["entries"]) == (None, "none", "none", 0)
    run = out["run"]
    assert run["reason"] == "poweroff", run["console"]
    assert report.parse(run["console"]).passed
    assert_xen_healthy(lab)


def test_the_smallest_pool_runs_and_destroying_returns_every_page(lab, linux_cfg):
    out = dom0_json(lab, "shadow_pool.py", linux_cfg, timeout=900)
    run = out["run"]
    assert run["shadow_mb"] <= 4   # Xen raised the 1 MiB asked for to its minimum
    assert_completed(run)
    assert out["free after"] == out["free before"]
