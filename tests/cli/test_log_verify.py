"""`xenrr log verify`: exit 0 intact, 1 damaged with what and where, 2 for the tool's own failure."""

import random

import pytest

from xenrr.cli import main
from xenrr.formats import Durability
from xenrr.formats import verify as checks

from tests.formats.traces import crew_events, one_of_each, write_trace


@pytest.fixture
def trace(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, one_of_each() + crew_events(40), Durability(chunk_bytes=512), streams=2)
    return path


def test_intact(trace, capsys):
    assert main(["log", "verify", str(trace)]) == 0
    assert capsys.readouterr() == (f"{trace}: intact: 8 chunks, 50 records\n", "")


def test_damaged(trace, capsys):
    data = bytearray(trace.read_bytes())
    data[300] ^= 0x01
    trace.write_bytes(data)
    assert main(["log", "verify", str(trace)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and out.startswith("bytes 0x")
    assert "checksum expected 0x" in out
    assert err == f"xenrr: {trace}: damaged: 1 problem, first: {out.strip()}\n"


def test_a_record_problem_says_where(tmp_path, capsys):
    path = tmp_path / "t.xrr"
    write_trace(path, [crew_events(1)[0]._replace(vcpu=9)])
    assert main(["log", "verify", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out.endswith(", record at +0x0 (crew_event): vcpu: expected a vCPU below 2 or a "
                        "device actor, got 0x9\n")
    assert err.startswith(f"xenrr: {path}: damaged: 1 problem, first: chunk 1 (stream 0) at 0x")


def test_an_internal_error_is_exit_2(trace, capsys, monkeypatch):
    def broken(*args):
        raise ZeroDivisionError("bug")
    monkeypatch.setattr(checks, "verify", broken)
    assert main(["log", "verify", str(trace)]) == 2
    assert capsys.readouterr().err == ("xenrr: internal error: ZeroDivisionError: bug "
                                       "(set XENRR_TRACEBACK=1 for the traceback)\n")


def mutations(data: bytes, rng: random.Random):
    """Truncations, bit flips and garbage, as a killed writer or a bad disk leaves them."""
    for _ in range(8):
        yield "cut", data[:rng.randrange(len(data))]
    for _ in range(8):
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            flipped[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        yield "flip", bytes(flipped)
    for size in (0, 7, 24, 100, 5000):
        yield "garbage", rng.randbytes(size)


@pytest.mark.parametrize("command", ["verify", "stats", "dump"])
def test_damage_gets_one_line_and_exit_1(trace, tmp_path, capsys, command):
    bad = tmp_path / "bad.xrr"
    for kind, data in mutations(trace.read_bytes(), random.Random(command)):
        bad.write_bytes(data)
        status = main(["log", command, str(bad)])
        err = capsys.readouterr().err
        assert (status, err.count("\n"), err[:7]) == (1, 1, "xenrr: "), (kind, err)
