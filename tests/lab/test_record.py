"""`xenrr record` of the 2-vCPU PV Linux domU under CREW, in the patched hypervisor."""

import json

import pytest

from tests.lab.dom0run import assert_xen_healthy, xenrr_host
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest
from xenrr.lab.recording import GUEST, record_guest, trace_path
from xenrr.crew.history import check_trace

pytestmark = pytest.mark.lab

# A recording of the 2-vCPU Linux domU is stopped, as by Ctrl-C, during its
# boot, STOP_SECONDS after its second vCPU first ran (the boot's speed under
# recording varies: a fixed time from the start once stopped it before vCPU 1
# was up); it serves the tests of the trace's content. Recording the domU from
# its first instruction to its power-off takes about twenty minutes under TCG
# (every handover of a frame is a CREW fault, every read of the TSC a trap),
# more than half the suite's budget: bench/record.py does it, in both position
# modes, and fails if the guest's self-check or the model checker does.
ITERATIONS = 3000
STOP_SECONDS = 40
VCPU1_RAN = f"xl vcpu-list {GUEST} 2>/dev/null | awk '$3 == 1 && $6 > 0' | grep -q ."


@pytest.fixture(scope="module")
def small_cfg():
    return linux_guest(["race", "locked"], iterations=ITERATIONS, vcpus=2)


@pytest.fixture(scope="module")
def stopped(lab, small_cfg):
    return record_guest(lab, small_cfg, "stopped", stop_after=STOP_SECONDS,
                        once=VCPU1_RAN)


def test_a_stopped_recording_closes_cleanly_and_the_guest_runs_on(stopped):
    assert stopped.result.returncode == 0, stopped.result.stderr
    assert "(stopped)" in stopped.result.stderr, stopped.result.stderr
    assert "xenrr-guest: done ok" in stopped.console, stopped.console


def test_the_trace_verifies(stopped):
    verify = xenrr_host("log", "verify", stopped.trace)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_model_accepts_the_crew_history_of_a_recorded_boot(stopped):
    summary = check_trace(stopped.trace)
    assert summary.actors == 2
    assert summary.events > 1000 and summary.constraints > 0


def test_both_vcpus_have_crew_events_and_the_header_names_the_build(stopped):
    trace = stopped.trace
    with TraceReader(trace) as reader:
        recs = list(reader.records())
    header = recs[0]
    assert isinstance(header, rec.TraceHeader)
    assert (header.vcpus, header.name) == (2, "xenrr-guest")
    assert "xenrr series" in header.xen_version
    assert "race" in header.config
    vcpus = {r.vcpu for r in recs if isinstance(r, rec.CrewEvent)}
    assert vcpus == {0, 1}


def test_log_sharing_names_the_hottest_frames(stopped):
    trace = stopped.trace
    sharing = xenrr_host("log", "sharing", "--json", "--top", "3", trace)
    assert sharing.returncode == 0, sharing.stderr
    out = json.loads(sharing.stdout)
    top = out["top"]
    assert len(top) == 3, out
    # The hottest frames are handed back and forth between the two vCPUs.
    assert top[0]["events"] >= top[1]["events"] >= top[2]["events"] > 0
    assert top[0]["pingpong"][0]["actors"] == [0, 1], top[0]


def test_a_killed_recorder_leaves_complete_chunks_that_verify(lab, small_cfg):
    trace = trace_path(lab, "killed")
    partial = trace.with_name(trace.name + ".partial")
    # Killed once crew_events reached the file (its start state alone takes seconds to
    # write), whatever chunk it was writing then.
    partial_in_dom0 = lab.share.in_dom0(partial)
    script = (f"xenrr record -q -c {small_cfg} -o {lab.share.in_dom0(trace)} & pid=$!; "
              "for i in $(seq 120); do sleep 1; "
              f"xenrr log dump --type crew_event {partial_in_dom0} 2>/dev/null | grep -q . "
              "&& break; done; sleep 3; kill -9 $pid; wait $pid; xl destroy xenrr-guest")
    lab.run(["sh", "-c", script], timeout=300)
    assert partial.exists() and not trace.exists()
    with TraceReader(partial) as reader:
        recs = list(reader.records())
        assert not reader.complete
    assert isinstance(recs[0], rec.TraceHeader)
    assert sum(isinstance(r, rec.CrewEvent) for r in recs) > 0
    # Every chunk is whole: all verify finds is the missing footer.
    verify = xenrr_host("log", "verify", partial)
    assert verify.returncode == 1
    assert "the trace was not closed" in verify.stdout + verify.stderr
    assert "crc" not in (verify.stdout + verify.stderr).lower()


def test_recording_dom0_or_a_recorded_domain_twice_is_refused(lab, small_cfg):
    first, second, dom0_trace = (lab.share.in_dom0(trace_path(lab, name))
                                 for name in ("first", "second", "dom0"))
    dom0 = lab.run(["xenrr", "record", "0", "-o", str(dom0_trace)])
    assert dom0.returncode != 0 and dom0.stderr.count("\n") == 1, dom0.stderr
    script = (f"xl create -p {small_cfg} >/dev/null 2>&1; "
              f"xenrr record -q xenrr-guest -o {first} & pid=$!; sleep 8; "
              f"xenrr record xenrr-guest -o {second}; rc=$?; "
              "kill $pid; wait $pid; xl destroy xenrr-guest; exit $rc")
    twice = lab.run(["sh", "-c", script], timeout=300)
    assert twice.returncode != 0
    assert "already enabled" in twice.stderr, twice.stderr
    assert_xen_healthy(lab)
