"""`xenrr log sharing TRACE [--json] [--top N]` on traces written with TraceWriter."""

import json

import pytest

from tests.crew.traces import DEV, PINGPONG, N, R, X, E, unclose, write_trace
from xenrr.cli import main
from xenrr.formats import Digest, Position

# vCPU 1's digest at 100 stretches its span of positions to 1..100.
DIGEST = Digest(vcpu=1, flags=0, reg_digest=0, mem_digest=0, position=Position(100, 0))

TEXT = """\
9 CREW events on 3 frames

frame                  events  ping-pong pairs (handovers both ways)
0x10                        5  vCPU 0<->vCPU 1 2
0x12                        3  -
0x11                        1  -

actor                  events    positions   per 10^6 positions
vCPU 0                      4            3            1333333.3
vCPU 1                      3           99              30303.0
device 0                    2            1            2000000.0
"""


@pytest.fixture
def trace(tmp_path):
    return write_trace(tmp_path / "t.xrr", PINGPONG, [DIGEST])


def test_lists_frames_pairs_and_rates(capsys, trace):
    assert main(["log", "sharing", str(trace)]) == 0
    assert capsys.readouterr() == (TEXT, "")


def test_json_lists_the_top_frames(capsys, trace):
    assert main(["log", "sharing", str(trace), "--json", "--top", "1"]) == 0
    expected = {
        "events": 9, "frames": 3,
        "top": [{"frame": X, "events": 5,
                 "pingpong": [{"actors": [0, 1], "handovers": 2}]}],
        "actors": [
            {"actor": 0, "name": "vCPU 0", "events": 4, "positions": 3,
             "per_million": 4e6 / 3},
            {"actor": 1, "name": "vCPU 1", "events": 3, "positions": 99,
             "per_million": 3e6 / 99},
            {"actor": DEV, "name": "device 0", "events": 2, "positions": 1,
             "per_million": 2e6}]}
    assert capsys.readouterr() == (json.dumps(expected, separators=(",", ":")) + "\n", "")


def test_an_unclosed_trace_is_analysed_then_reported(capsys, trace):
    unclose(trace)
    assert main(["log", "sharing", str(trace)]) == 1
    assert capsys.readouterr() == (
        TEXT, f"xenrr: {trace}: not closed: no footer (the recorder did not finish)\n")


def test_an_illegal_history_is_one_line(capsys, tmp_path):
    trace = write_trace(tmp_path / "t.xrr", [E(0, X, N, R, 1), E(0, X, N, R, 2)])
    assert main(["log", "sharing", str(trace)]) == 1
    assert capsys.readouterr() == (
        "", "xenrr: vCPU 0, frame 0x10, position 2: NONE->READ, but it holds READ\n")


def test_a_missing_trace_is_one_line(capsys, tmp_path):
    assert main(["log", "sharing", str(tmp_path / "absent.xrr")]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"xenrr: cannot read {tmp_path / 'absent.xrr'}: "
                              "No such file or directory\n")


def test_top_must_be_positive(capsys, trace):
    assert main(["log", "sharing", str(trace), "--top", "0"]) == 2
    assert "--top" in capsys.readouterr().err
