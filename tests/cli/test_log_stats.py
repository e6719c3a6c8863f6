"""`xenrr log stats`: records and bytes per type and per actor, and the compression ratio."""

import io
import json
import sys

import pytest

from xenrr.cli import main
from xenrr.formats import Durability, TraceReader

from tests.formats.traces import crew_events, one_of_each, write_trace


@pytest.fixture
def trace(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, one_of_each() + crew_events(4), Durability(chunk_bytes=256))
    with TraceReader(path) as r:
        return path, r.footer


def test_stats(trace, capsys):
    path, f = trace
    assert main(["log", "stats", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no progress bar: stderr is not a terminal
    assert out.splitlines() == [
        f"chunks {f.chunks}  records 14  raw bytes {f.raw_bytes}  stored bytes {f.stored_bytes}  "
        f"ratio {f.raw_bytes / f.stored_bytes:.2f}",
        "",
        f"{'type':<36} {'records':>12} {'bytes':>14}",
        f"{'trace_header':<36} {1:>12} {88:>14}",
        f"{'vcpu_state':<36} {1:>12} {40:>14}",
        f"{'end_of_trace':<36} {1:>12} {32:>14}",
        f"{'crew_event':<36} {5:>12} {280:>14}",
        f"{'constraint':<36} {1:>12} {64:>14}",
        f"{'async_input':<36} {1:>12} {64:>14}",
        f"{'rdtsc':<36} {1:>12} {48:>14}",
        f"{'time_update':<36} {1:>12} {64:>14}",
        f"{'dma':<36} {1:>12} {64:>14}",
        f"{'digest':<36} {1:>12} {56:>14}",
        "",
        f"{'actor':<36} {'records':>12} {'bytes':>14}",
        f"{'vcpu 0':<36} {6:>12} {344:>14}",
        f"{'vcpu 1':<36} {5:>12} {272:>14}",
        f"{'device 0':<36} {1:>12} {64:>14}",
    ]


def test_stats_json(trace, capsys):
    path, f = trace
    assert main(["log", "stats", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1
    got = json.loads(out)
    assert got["types"][3] == {"type": "crew_event", "number": "0x58520010", "records": 5, "bytes": 280}
    assert got["actors"] == [{"actor": 0, "records": 6, "bytes": 344},
                             {"actor": 1, "records": 5, "bytes": 272},
                             {"actor": 0xFFFF0000, "records": 1, "bytes": 64}]
    assert (got["chunks"], got["records"], got["raw_bytes"], got["stored_bytes"], got["ratio"]) == (
        f.chunks, 14, f.raw_bytes, f.stored_bytes, round(f.raw_bytes / f.stored_bytes, 2))


def test_a_damaged_trace_counts_what_is_left(trace, capsys):
    path, _ = trace
    data = bytearray(path.read_bytes())
    data[150] ^= 0x08
    path.write_bytes(data)
    assert main(["log", "stats", "--json", str(path)]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["records"] < 14
    assert err.startswith(f"xenrr: {path}: damaged: bytes 0x") and err.count("\n") == 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_when_stderr_is_a_terminal(trace, capsys, monkeypatch):
    path, _ = trace
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["log", "stats", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 14
    assert "t.xrr  [" in terminal.getvalue() and "100%" in terminal.getvalue()
