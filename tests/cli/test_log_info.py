"""`xenrr log info`: header and footer facts, one line and exit 1 when the trace is not closed."""

import json

from xenrr.cli import main
from xenrr.formats import Durability, TraceReader

from tests.formats.traces import HEADER, crew_events, write_trace


def closed_trace(tmp_path):
    path = tmp_path / "t.xrr"
    write_trace(path, crew_events(10), Durability(chunk_bytes=256))
    with TraceReader(path) as r:
        return path, r.footer


def test_info(tmp_path, capsys):
    path, f = closed_trace(tmp_path)
    assert main(["log", "info", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == "".join(f"{k:<16} {v}\n" for k, v in [
        ("trace", path), ("closed", True), ("revision", 2), ("size", path.stat().st_size),
        ("domid", 7), ("name", "guest"), ("vcpus", 2), ("guest_type", "PV"),
        ("xen_version", "4.17.5"), ("xenrr_interface", 1), ("position_mode", "SYNC_ENTRY"),
        ("start_time", "2023-11-14T22:13:20+00:00"), ("chunks", 4), ("records", 12),
        ("raw_bytes", f.raw_bytes), ("stored_bytes", f.stored_bytes),
        ("ratio", round(f.raw_bytes / f.stored_bytes, 2))])


def test_info_json(tmp_path, capsys):
    path, f = closed_trace(tmp_path)
    assert main(["log", "info", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1 and " " not in out.replace("guest\"", "")[:20]
    assert json.loads(out) == {
        "trace": str(path), "closed": True, "revision": 2, "size": path.stat().st_size,
        "domid": 7, "name": "guest", "vcpus": 2, "guest_type": "PV", "xen_version": "4.17.5",
        "xenrr_interface": 1, "position_mode": "SYNC_ENTRY",
        "start_time": "2023-11-14T22:13:20+00:00", "chunks": 4, "records": 12,
        "raw_bytes": f.raw_bytes, "stored_bytes": f.stored_bytes,
        "ratio": round(f.raw_bytes / f.stored_bytes, 2)}


def test_an_unclosed_trace(tmp_path, capsys):
    path, _ = closed_trace(tmp_path)
    partial = tmp_path / "p.xrr.partial"
    partial.write_bytes(path.read_bytes()[:300])
    assert main(["log", "info", "--json", str(partial)]) == 1
    out, err = capsys.readouterr()
    facts = json.loads(out)
    assert facts["closed"] is False and facts["name"] == HEADER.name
    assert facts["chunks"] is None and facts["ratio"] is None
    assert err == f"xenrr: {partial}: not closed: no footer (the recorder did not finish)\n"


def test_not_a_trace(tmp_path, capsys):
    path = tmp_path / "x"
    path.write_bytes(b"hello")
    assert main(["log", "info", str(path)]) == 1
    assert capsys.readouterr() == (
        "", f"xenrr: {path}: not a xenrr trace (5 bytes, shorter than a file header)\n")
