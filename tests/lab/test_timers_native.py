"""The timers micro-guest natively: timer ticks and IPIs through event channel upcalls.

The witness for asynchronous inputs. Every vCPU binds VIRQ_TIMER and an IPI
port to itself, takes ticks and IPIs in its upcall while it works, sends
IPIs, blocks until one wakes it, and hashes the order its events arrive in.
Natively that order depends on timing, so runs end with different hashes:
what a replay must pin down. The runs share one dom0 command (a guest costs
a few seconds of toolstack time, its workload well under one).
"""

import json

import pytest

from xenrr.lab import micro
from xenrr.lab.micro import report

pytestmark = pytest.mark.lab

VCPUS = 2
RUNS = 10
GUEST_TIMEOUT = 120


@pytest.fixture(scope="module")
def native_runs(lab):
    """RUNS native runs of the timers guest on VCPUS vCPUs: [(JSON summary, report)]."""
    cfg = micro.config("timers", vcpus=VCPUS)
    proc = lab.run(["xenrr", "lab", "domu", *[str(cfg)] * RUNS, "--json",
                    "--timeout", str(GUEST_TIMEOUT)], timeout=(GUEST_TIMEOUT + 60) * RUNS)
    summaries = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(summaries) == RUNS, proc.stderr
    return [(s, report.parse(s["console"])) for s in summaries]


def per_vcpu(rep, key: str) -> list[int]:
    """The guest's KEY<v>=N result fields, vCPU by vCPU."""
    return [int(rep.result[f"{key}{v}"]) for v in range(rep.vcpus)]


def test_every_run_completes_and_passes_its_check(native_runs):
    for summary, rep in native_runs:
        assert (summary["reason"], rep.passed) == ("poweroff", True), summary["console"]
        assert (summary["mode"], rep.workload, rep.vcpus) == ("native", "timers", VCPUS)
        assert {"ring", "state"} <= {p.region for p in rep.pages}


def test_every_vcpu_takes_ticks_and_ipis_and_blocks(native_runs):
    for _, rep in native_runs:
        ticks, ipis = per_vcpu(rep, "ticks"), per_vcpu(rep, "ipis")
        assert all(ticks) and all(ipis), rep.result
        assert (sum(ticks), sum(ipis)) == (int(rep.result["ticks"]), int(rep.result["ipis"]))
        # Waiting for the vCPU before it, a vCPU that is ahead blocks in Xen.
        assert all(per_vcpu(rep, "blocks")), rep.result
        assert per_vcpu(rep, "rc") == [0] * VCPUS


def test_where_the_events_land_differs_from_run_to_run(native_runs):
    hashes = [rep.result["hash"] for _, rep in native_runs]
    assert len(set(hashes)) >= 2, hashes
