"""Replay in the patched hypervisor: micro-guests replayed under CREW, every change at its position.

Micro-guests are recorded with positions by branch count; `xenrr replay`
rebuilds each on its recorded frames and Xen replays it from the trace fed
through its rings (patches 0013-0014): every vCPU stopped at each of its
crew_events' positions exactly, the access change made there once the
constraints hold. The guest's own digest of its memory comes out as
recorded, the race's included, which differs from run to run natively. A
trace whose position was moved, or whose register digest was changed, is a
divergence reported at that position, one without the constraints that
order its vCPUs is stopped where the order breaks, and Xen carries on; a trace
cut short is replayed as far as it goes, and said to be.
"""

import json
import re

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json
from tests.lab.replaying import record_micro, replay, rewrite
from xenrr.formats import Constraint, CrewEvent, Position, TraceReader, XenFrame, framing
from xenrr.lab import micro
from xenrr.lab.micro import report
from xenrr.lab.recording import trace_path
from xenrr.replay.feed import vcpu_entries
from xenrr.replay.run import HELD

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module", params=[("branches", 1), ("race", 2)],
                ids=["branches-1v", "race-2v"])
def recorded(lab, request):
    """A micro-guest recorded by branch count: its config, trace and console report.

    Recorded here, not shared with other modules: a replay starts on the recorded
    machine frames, which the domains run in between may have taken."""
    workload, vcpus = request.param
    return record_micro(lab, workload, vcpus, f"replay-run-{workload}-{vcpus}v")


def events_per_vcpu(trace, vcpus):
    with TraceReader(trace) as reader:
        return [e.events for e in vcpu_entries(reader, vcpus)]


def test_every_crew_event_is_applied_at_its_position_and_the_guest_computes_what_it_recorded(
        lab, recorded):
    cfg, trace, recorded_report = recorded
    totals = events_per_vcpu(trace, recorded_report.vcpus)
    for _ in range(2):
        result, console = replay(lab, cfg, trace)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["divergence"] is None
        applied = [summary["crew_events"][str(v)] for v in range(len(totals))]
        assert sum(totals) - sum(applied) == summary["unreached"] <= len(totals), (applied, totals)
        # Far targets by the counter's interrupt, the last branches stepped.
        assert summary["counter_interrupts"] > 0 and summary["single_steps"] > 0
        replayed = report.parse(console)
        assert replayed.passed, console
        assert (replayed.digest, replayed.result) == (recorded_report.digest,
                                                      recorded_report.result)
        # xenrr's own digests of the end: every frame but the backends' rings, every vCPU's
        # registers, as recorded.
        final = summary["final"]
        assert final["replayed"] == final["recorded"], final
        assert len(final["recorded"]["registers"]) == len(totals)
        assert sorted(f["what"] for f in final["left_out"]) == ["console ring", "xenstore ring"]
        assert "the guest ended in the state recorded: memory " in result.stderr
    assert_xen_healthy(lab)


def test_a_moved_position_is_a_divergence_reported_at_that_position(lab, recorded):
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        records = list(reader.records())
    events = [r for r in records if isinstance(r, CrewEvent) and r.vcpu == 0]
    moved = events[len(events) // 2]
    index = next(i for i, e in enumerate(events) if e.position == moved.position)
    wrong = Position(count=moved.position.count, rip=moved.position.rip + 1,
                     rcx=moved.position.rcx)

    def move(r):
        # The position moved everywhere the trace names it: only Xen can tell.
        if isinstance(r, CrewEvent) and r.vcpu == 0 and r.position == moved.position:
            return r._replace(position=wrong)
        if isinstance(r, Constraint) and (r.vcpu, r.position) == (0, moved.position):
            return r._replace(position=wrong)
        if isinstance(r, Constraint) and (r.after_vcpu, r.after_position) == (0, moved.position):
            return r._replace(after_position=wrong)
        return r

    tampered = rewrite(lab, records, "replay-run-moved", move)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"xenrr: vCPU 0 diverged before its crew_event {index + 1} of "
                           f"{len(events)} at count {wrong.count} rip {wrong.rip:#x}"), last
    # An increase is met by a CREW fault at the true rip, a reduction by a count passed.
    assert ("its count passed the position without meeting its rip and rcx" in last or
            "it took a CREW fault where the trace has no change" in last), last
    assert "the last that matched: crew_event at count" in last
    assert json.loads(result.stdout)["divergence"] == last.removeprefix("xenrr: ")
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)


def test_a_flipped_register_digest_is_a_divergence_at_that_event(lab, recorded):
    """The registers replay finds at the event's position are the recording's, not the trace's."""
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        records = list(reader.records())
    events = [r for r in records if isinstance(r, CrewEvent) and r.vcpu == 0]
    # Xen took the vCPU's registers at every position it reached, but for the access it takes
    # to shared_info to publish events there (a hypercall's result may have changed them).
    shared_info = {r.mfn for r in records if isinstance(r, XenFrame)}
    digested = [e for e in events[:-1] if e.gfn not in shared_info]
    assert all(e.registers for e in digested), "a crew_event without its register digest"
    flipped = digested[len(digested) // 2]
    index = events.index(flipped)
    tampered = rewrite(lab, records, "replay-run-registers",
                       lambda r: r._replace(registers=r.registers ^ 1) if r is flipped else r)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"xenrr: vCPU 0 diverged before its crew_event {index + 1} of {len(events)} at "
        f"count {flipped.position.count} rip {flipped.position.rip:#x} rcx "
        f"{flipped.position.rcx:#x}: its registers are not those recorded there (digest "
        f"{flipped.registers:#018x}, recorded {flipped.registers ^ 1:#018x}) (at count "
        f"{flipped.position.count} rip {flipped.position.rip:#x} rcx {flipped.position.rcx:#x}); "
        f"the last that matched: crew_event at count {events[index - 1].position.count} rip "
        f"{events[index - 1].position.rip:#x} rcx {events[index - 1].position.rcx:#x}"), last
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)


def test_constraints_dropped_stop_the_replay_where_the_order_they_kept_breaks(lab, recorded):
    """Without vCPU 1's constraints the replay stops at a vCPU they ordered, never races on.

    Which stop comes first is the scheduler's: a vCPU that comes to a frame
    the other still has is held as a conflict; one that comes before the other
    took it reads what it did not read in recording: its registers, or its
    path, are then not those recorded at its next crew_event (seen in CI: vCPU
    1's count passed its ninth without meeting its rip)."""
    cfg, trace, recorded_report = recorded
    if recorded_report.vcpus < 2:
        pytest.skip("one vCPU: no constraints")
    with TraceReader(trace) as reader:
        records = list(reader.records())
    dropped = [r for r in records if isinstance(r, Constraint) and r.vcpu == 1]
    assert dropped, "the race orders vCPU 1 after vCPU 0"
    tampered = rewrite(lab, records, "replay-run-unconstrained",
                       lambda r: None if isinstance(r, Constraint) and r.vcpu == 1 else r)
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    stop = re.match(r"xenrr: vCPU (\d) diverged before its crew_event \d+ of \d+ at count \d+ "
                    r"rip 0x[0-9a-f]+ rcx 0x[0-9a-f]+: (.*)", last)
    assert stop, last
    other = 1 - int(stop.group(1))
    assert stop.group(2).startswith((f"{HELD['conflict']} (gfn 0x",
                                     f"{HELD['registers']} (digest 0x",
                                     f"{HELD['missed']} (at count ")), last
    if stop.group(2).startswith(HELD["conflict"]):
        assert f"held by vCPU {other}: the trace lacks the constraint that orders them)" in last
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)


def test_crew_events_of_two_vcpus_swapped_are_a_divergence_at_the_first(lab, recorded):
    """vCPU 0's change given to vCPU 1 and vCPU 1's to vCPU 0: found where the first is due.

    (Swapped where a constraint names them, the trace is refused before the domain is built:
    the constraint names a position where that vCPU has no crew_event.)"""
    cfg, trace, recorded_report = recorded
    if recorded_report.vcpus < 2:
        pytest.skip("one vCPU: nothing to swap with")
    with TraceReader(trace) as reader:
        records = list(reader.records())
    mine = {v: [r for r in records if isinstance(r, CrewEvent) and r.vcpu == v] for v in (0, 1)}
    # Two that no constraint names, so that the trace still reads as sound: only Xen can tell.
    named = {p for r in records if isinstance(r, Constraint)
             for p in ((r.vcpu, r.position), (r.after_vcpu, r.after_position))}
    a, b = ([e for e in mine[v][len(mine[v]) // 2:] if (v, e.position) not in named][0]
            for v in (0, 1))
    swapped = {id(a): b._replace(vcpu=0), id(b): a._replace(vcpu=1)}
    tampered = rewrite(lab, records, "replay-run-swapped", lambda r: swapped.get(id(r), r))
    result, _ = replay(lab, cfg, tampered)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    due = {0: (mine[0].index(a), b.position), 1: (mine[1].index(b), a.position)}
    assert any(last.startswith(f"xenrr: vCPU {v} diverged before its crew_event {i + 1} of "
                               f"{len(mine[v])} at count {p.count} rip {p.rip:#x}")
               for v, (i, p) in due.items()), last
    assert lab.run(["xl", "domid", cfg.stem]).returncode != 0, "the diverged domain is destroyed"
    assert_xen_healthy(lab)


def test_a_trace_cut_short_replays_what_it_holds_and_says_so(lab, recorded):
    """A killed recorder's trace: replayed to its last complete chunk, held there, exit 1."""
    cfg, trace, _ = recorded
    with TraceReader(trace) as reader:
        # The recorder killed while it wrote the last chunk that holds crew_events.
        last = [c for c in reader.chunks()
                if any(rtype == CrewEvent.TYPE for _, rtype, _ in framing.walk(c.data))][-1]
    cut = trace_path(lab, "replay-run-cut")
    cut.write_bytes(trace.read_bytes()[:last.offset + last.size // 2])
    with TraceReader(cut) as reader:
        held = sum(e.events for e in vcpu_entries(reader, reader.header.vcpus))
    result, _ = replay(lab, cfg, cut)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"xenrr: {lab.share.in_dom0(cut)}: "), last
    assert "not closed: no footer (the recorder did not finish)" in last
    assert last.endswith(f": replayed only the {held} crew_events it holds, the domain left "
                         "paused where they end; the recording went on past them"), last
    summary = json.loads(result.stdout)
    assert summary["divergence"] is None and summary["damage"] in last
    assert sum(summary["crew_events"].values()) == held
    assert_xen_healthy(lab)


def test_replay_mode_and_run_to_refuse_what_they_cannot_do_with_an_errno(lab):
    out = dom0_json(lab, "run_to.py", micro.config("private", vcpus=1))
    assert out == {
        "run_to: rr off": "ENOENT",
        "replay: sync-entry": "ENOTSUP",
        "kick: rr off": "ENOENT",
        # Under CREW the rings say where the vCPUs go.
        "run_to: CREW replay": "EBUSY",
        "kick: CREW replay": "ok",
        "run_to: recording": "ENOTSUP",
        "get_stop: recording": "ENOTSUP",
        "kick: recording": "ENOTSUP",
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
