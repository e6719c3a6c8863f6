"""`xenrr log dump`: one line per record, filtered by type and actor, text or JSON."""

import json

import pytest

from xenrr.cli import main
from xenrr.formats import Durability, EndOfTrace
from xenrr.formats.display import to_json
from xenrr.formats.enums import EndReason

from tests.formats.traces import framed, one_of_each, write_trace


@pytest.fixture
def trace(tmp_path):
    path = tmp_path / "t.xrr"
    records = write_trace(path, one_of_each(), Durability(chunk_bytes=128))
    end = EndOfTrace(EndReason.STOPPED, len(records), sum(len(framed(r)) for r in records))
    return path, records + [end]


def test_dump(trace, capsys):
    path, records = trace
    assert main(["log", "dump", str(path)]) == 0
    assert capsys.readouterr() == ("".join(f"{r}\n" for r in records), "")


def test_dump_json(trace, capsys):
    path, records = trace
    assert main(["log", "dump", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and [json.loads(line) for line in out.splitlines()] == [to_json(r) for r in records]
    assert out.splitlines()[1] == ('{"type":"vcpu_state","vcpu":0,"format":"X86_64_PV",'
                                   '"context":"010101010101010101010101010101010101010101010101"}')


@pytest.mark.parametrize("args, names", [
    (["--type", "crew_event", "--type", "dma"], ["crew_event", "dma"]),
    (["--type", "0x58520021"], ["rdtsc"]),
    (["--vcpu", "1"], ["crew_event", "rdtsc", "digest"]),
    (["--vcpu", "0", "--type", "constraint"], ["constraint"]),
    (["--vcpu", str(0xFFFF0000)], ["dma"]),
])
def test_filters(trace, capsys, args, names):
    path, _ = trace
    assert main(["log", "dump", *args, str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and [line.split()[0] for line in out.splitlines()] == names


def test_unknown_type(trace, capsys):
    path, _ = trace
    assert main(["log", "dump", "--type", "bogus", str(path)]) == 1
    assert capsys.readouterr() == ("", "xenrr: unknown record type 'bogus' (known: trace_header, "
                                       "vcpu_state, end_of_trace, start_frames, xen_frame, start_contents, "
                                       "crew_event, "
                                       "constraint, crew_place, replay_wait, async_input, rdtsc, time_update, "
                                       "dma, digest, end_frames, end_registers)\n")


def test_a_truncated_trace_dumps_what_it_can_then_says_what_was_lost(trace, capsys):
    path, records = trace
    cut = path.with_name("cut.xrr")
    cut.write_bytes(path.read_bytes()[:400])
    assert main(["log", "dump", str(cut)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines == [str(r) for r in records[:len(lines)]] and 0 < len(lines) < len(records)
    assert err.startswith(f"xenrr: {cut}: damaged: bytes 0x") and err.count("\n") == 1
    assert err.endswith("; not closed: no footer (the recorder did not finish)\n")
