"""`xenrr record` of the 2-vCPU PV Linux domU under CREW, in the patched hypervisor."""

import json
import subprocess
import sys

import pytest

from tests.lab.dom0run import assert_xen_healthy
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest, results
from xenrr.lab.paths import cache_dir
from xenrr.shadow.trace import check_trace

pytestmark = pytest.mark.lab

PRESERVE = ['on_poweroff="preserve"', 'on_crash="preserve"']
# Every racing increment is a CREW handover: a few thousand keep a recording
# to a minute or two under TCG.
ITERATIONS = 3000


@pytest.fixture(scope="module")
def small_cfg():
    return linux_guest(["race", "locked"], iterations=ITERATIONS, vcpus=2)
CONSOLE = "/var/log/xen/console/guest-xenrr-guest.log"


def traces():
    """Where dom0 writes traces the host then reads (the cache is shared with dom0)."""
    d = cache_dir() / "lab" / "traces"
    d.mkdir(parents=True, exist_ok=True)
    return d


def xenrr_host(*args):
    return subprocess.run([sys.executable, "-m", "xenrr", *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def recording(lab, small_cfg):
    trace = traces() / "linux.xrr"
    for stale in (trace, trace.with_name(trace.name + ".partial")):
        stale.unlink(missing_ok=True)
    lab.run(["sh", "-c", f": > {CONSOLE}"])
    result = lab.run(["xenrr", "record", "-q", "-c", str(small_cfg), "-o", str(trace),
                      *PRESERVE], timeout=900)
    console = lab.run(["cat", CONSOLE]).stdout
    lab.run(["xl", "destroy", "xenrr-guest"])
    return result, trace, console


def test_the_recorded_guest_completes_and_its_locked_check_passes(recording):
    result, trace, console = recording
    assert result.returncode == 0, result.stderr
    assert "(shutdown)" in result.stderr, result.stderr
    assert results(console)["locked"]["verdict"] == "ok", console


def test_the_trace_verifies_and_the_model_accepts_its_crew_history(recording):
    _, trace, _ = recording
    verify = xenrr_host("log", "verify", trace)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    summary = check_trace(trace)
    assert summary.actors == 2
    assert summary.events > 1000 and summary.constraints > 0


def test_both_vcpus_have_crew_events_and_the_header_names_the_build(recording):
    _, trace, _ = recording
    with TraceReader(trace) as reader:
        recs = list(reader.records())
    header = recs[0]
    assert isinstance(header, rec.TraceHeader)
    assert (header.vcpus, header.name) == (2, "xenrr-guest")
    assert "xenrr series" in header.xen_version
    assert "race" in header.config
    vcpus = {r.vcpu for r in recs if isinstance(r, rec.CrewEvent)}
    assert vcpus == {0, 1}


def test_log_sharing_names_the_hottest_frames(recording):
    _, trace, _ = recording
    sharing = xenrr_host("log", "sharing", "--json", "--top", "3", trace)
    assert sharing.returncode == 0, sharing.stderr
    out = json.loads(sharing.stdout)
    assert len(out["frames"]) == 3, out


def test_a_killed_recorder_leaves_complete_chunks_that_verify(lab, small_cfg):
    trace = traces() / "killed.xrr"
    partial = trace.with_name(trace.name + ".partial")
    for stale in (trace, partial):
        stale.unlink(missing_ok=True)
    script = (f"xenrr record -q -c {small_cfg} -o {trace} & pid=$!; sleep 20; "
              "kill -9 $pid; wait $pid; xl destroy xenrr-guest")
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
    dom0 = lab.run(["xenrr", "record", "0", "-o", str(traces() / "dom0.xrr")])
    assert dom0.returncode != 0 and dom0.stderr.count("\n") == 1, dom0.stderr
    script = (f"xl create -p {small_cfg} >/dev/null 2>&1; "
              f"xenrr record -q xenrr-guest -o {traces() / 'first.xrr'} --force & pid=$!; "
              "sleep 8; "
              f"xenrr record xenrr-guest -o {traces() / 'second.xrr'} --force; rc=$?; "
              "kill $pid; wait $pid; xl destroy xenrr-guest; exit $rc")
    twice = lab.run(["sh", "-c", script], timeout=300)
    assert twice.returncode != 0
    assert "already enabled" in twice.stderr, twice.stderr
    assert_xen_healthy(lab)
