"""Events from outside the guest in the patched hypervisor: published at positions and replayed.

The timers micro-guest takes timer ticks and IPIs through event-channel
upcalls while it works, blocks until events wake it, and hashes the order
they arrive in, which differs from run to run natively. Recording queues
every event sent to a vCPU and makes it visible at the vCPU's next
position, logging the words of shared_info and vcpu_info it changed and
every upcall where it is injected (patch 0020); replay drops the live
events, writes the logged ones at their positions and injects upcalls
only there, so the guest computes what it recorded. It is recorded with
its recorder stopped for a while, as one that falls behind: its vCPUs,
blocked with their rings full, wait in Xen until their wakes can be
logged, rather than run on unlogged (patch 0022).
"""

from collections import Counter

import pytest

from tests.lab.dom0run import assert_xen_healthy
from tests.lab.replaying import record_micro, replay, replay_as_recorded, rewrite
from xenrr.formats import AsyncInput, Rdtsc, TraceReader
from xenrr.formats.enums import InputKind

pytestmark = pytest.mark.lab

VCPUS = 2

# Meant to outlast the time the guest takes to fill half a vCPU's ring (Xen's
# reserve, 62 KiB) with the recorder stopped; not measured: a whole recording
# of this guest logs 120-170 KB a vCPU.
STALL_SECONDS = 10


@pytest.fixture(scope="module")
def recorded(lab):
    """The timers micro-guest recorded by branch count, its recorder stalled: its config,
    trace and console report."""
    return record_micro(lab, "timers", VCPUS, f"replay-timers-{VCPUS}v", stall=STALL_SECONDS)


def logged(trace) -> tuple[dict[int, list], dict[int, int]]:
    """Each vCPU's async_inputs, and how many TSC reads it logged."""
    inputs, reads = {v: [] for v in range(VCPUS)}, Counter()
    with TraceReader(trace) as reader:
        for r in reader.records(frozenset({AsyncInput.TYPE, Rdtsc.TYPE})):
            if isinstance(r, AsyncInput):
                inputs[r.vcpu].append(r)
            else:
                reads[r.vcpu] += 1
    return inputs, reads


def test_events_and_upcalls_are_logged_at_positions_and_replayed(lab, recorded):
    cfg, trace, recorded_report = recorded
    inputs, reads = logged(trace)
    for v, mine in inputs.items():
        kinds = Counter(InputKind(r.kind) for r in mine)
        # Each vCPU took ticks and IPIs: events published, and upcalls injected.
        assert kinds[InputKind.EVTCHN_PENDING] and kinds[InputKind.UPCALL_PENDING], (v, kinds)
        assert kinds[InputKind.UPCALL], (v, kinds)
        # It blocked, and was woken: where it resumed is logged.
        assert kinds[InputKind.WAKE], (v, kinds)
        for r in mine:
            assert len(r.data) == r.length
            assert (r.length == 0) == (r.kind in (InputKind.UPCALL, InputKind.WAKE))
        # The pending words are shared_info's: one frame for the whole domain.
        assert len({r.gfn for r in mine if r.kind == InputKind.EVTCHN_PENDING}) == 1
    summary = replay_as_recorded(lab, cfg, trace, recorded_report)
    assert summary["inputs"] == {str(v): len(inputs[v]) + reads[v] for v in range(VCPUS)}
    assert_xen_healthy(lab)


def test_an_upcall_missing_from_the_trace_is_a_divergence(lab, recorded):
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        records = list(reader.records())
    upcalls = [r for r in records if isinstance(r, AsyncInput) and r.vcpu == 1
               and r.kind == InputKind.UPCALL]
    dropped = upcalls[len(upcalls) // 2]
    tampered = rewrite(lab, records, "replay-timers-dropped",
                       lambda r: None if r is dropped else r)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    # Without it vCPU 1 goes on where the recording ran its handler: it diverges there.
    assert last.startswith("xenrr: vCPU 1 diverged before its "), last
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)
