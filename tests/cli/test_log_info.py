"""`xenrr log info`: header and footer facts, one line and exit 1 when the trace is not closed."""

import json

import pytest

from xenrr.cli import main
from xenrr.formats import INVALID_MFN, ConfigKind, Durability, TraceReader
from xenrr.formats.startstate import StartState, frame_digest

from tests.formats.traces import HEADER, crew_events, write_trace

XL_TEXT = "name = 'guest'\nvcpus = 2\n\nmemory=1024\n\n"   # a file and an override, as xl reads them


PAGES = (b"\x01" * 4096, b"\x02" * 4096)
START = StartState(mfns=(0x1000, INVALID_MFN, 0x1002), digests=(frame_digest(PAGES[0]), 0,
                                                                frame_digest(PAGES[1])),
                   contexts=(b"registers", b""), shared_info=0x77,
                   contents={frame_digest(p): p for p in PAGES})


def closed_trace(tmp_path, header=HEADER._replace(config_kind=ConfigKind.XL, config=XL_TEXT),
                 start=START):
    path = tmp_path / "t.xrr"
    write_trace(path, [*(start.records() if start else ()), *crew_events(10)],
                Durability(chunk_bytes=256), header=header)
    with TraceReader(path) as r:
        return path, r.footer


def test_info(tmp_path, capsys):
    path, f = closed_trace(tmp_path)
    assert main(["log", "info", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == "".join(f"{k:<16} {v}\n" for k, v in [
        ("trace", path), ("closed", True), ("revision", 8), ("size", path.stat().st_size),
        ("domid", 7), ("name", "guest"), ("vcpus", 2), ("guest_type", "PV"),
        ("xen_version", "4.17.5"), ("xenrr_interface", 1), ("position_mode", "SYNC_ENTRY"),
        ("start_time", "2023-11-14T22:13:20+00:00"), ("chunks", f.chunks), ("records", 18),
        ("raw_bytes", f.raw_bytes), ("stored_bytes", f.stored_bytes),
        ("ratio", round(f.raw_bytes / f.stored_bytes, 2)),
        ("start", "2 frames on pfns 0-0x2, shared_info 0x77, 1 of 2 vCPUs up"),
        ("config_kind", "XL")]) + (
        "config\n"
        "    name = 'guest'\n"
        "    vcpus = 2\n"
        "\n"
        "    memory=1024\n")


def test_info_json(tmp_path, capsys):
    path, f = closed_trace(tmp_path)
    assert main(["log", "info", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1 and " " not in out.replace("guest\"", "")[:20]
    assert json.loads(out) == {
        "trace": str(path), "closed": True, "revision": 8, "size": path.stat().st_size,
        "domid": 7, "name": "guest", "vcpus": 2, "guest_type": "PV", "xen_version": "4.17.5",
        "xenrr_interface": 1, "position_mode": "SYNC_ENTRY",
        "start_time": "2023-11-14T22:13:20+00:00", "chunks": f.chunks, "records": 18,
        "raw_bytes": f.raw_bytes, "stored_bytes": f.stored_bytes,
        "ratio": round(f.raw_bytes / f.stored_bytes, 2),
        "start": {"frames": 2, "pfns": 3, "shared_info": 0x77, "vcpus": 2, "vcpus_up": 1},
        "config_kind": "XL", "config": XL_TEXT}


def test_a_trace_without_a_start_says_it_cannot_be_replayed(tmp_path, capsys):
    path, _ = closed_trace(tmp_path, start=None)
    assert main(["log", "info", str(path)]) == 0
    assert "start            none (the trace cannot be replayed)\n" in capsys.readouterr().out


@pytest.mark.parametrize("kind, config", [
    (ConfigKind.XL_JSON, '[\n    {\n        "domid": 7\n    }\n]\n'),
    (ConfigKind.LIBVIRT_XML, "<domain type='xen'>\n  <name>guest</name>\n</domain>"),
    (ConfigKind.UNTAGGED, "name = 'guest'\n"),
    (9, "?"),
])
def test_info_says_what_the_config_is_and_shows_it(tmp_path, capsys, kind, config):
    path, _ = closed_trace(tmp_path, HEADER._replace(config_kind=kind, config=config))
    assert main(["log", "info", "--json", str(path)]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["config_kind"], facts["config"]) == (getattr(kind, "name", str(kind)), config)
    assert main(["log", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"config_kind      {getattr(kind, 'name', kind)}\n" in out
    assert out.endswith("config\n" + "".join(f"    {line}\n" for line in config.splitlines()))


@pytest.mark.parametrize("command", ["info", "dump", "stats", "verify", "sharing"])
@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7])
def test_a_trace_older_than_replay_needs_is_refused_in_one_line(tmp_path, capsys, command,
                                                                 version):
    """Revisions 1 to 7 lack what replay needs: every log command says so, exit status 1."""
    path, _ = closed_trace(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:12] + version.to_bytes(4, "big") + data[16:])
    assert main(["log", command, str(path)]) == 1
    assert capsys.readouterr() == (
        "", f"xenrr: {path}: trace format revision {version} predates what replay "
            "needs (revision 8): the trace must be recorded again\n")


def test_an_unclosed_trace(tmp_path, capsys):
    path, _ = closed_trace(tmp_path)
    partial = tmp_path / "p.xrr.partial"
    partial.write_bytes(path.read_bytes()[:300])
    assert main(["log", "info", "--json", str(partial)]) == 1
    out, err = capsys.readouterr()
    facts = json.loads(out)
    assert facts["closed"] is False and facts["name"] == HEADER.name
    assert (facts["config_kind"], facts["config"]) == ("XL", XL_TEXT)
    assert facts["chunks"] is None and facts["ratio"] is None
    # The cut took the start state's frame bytes: info says so and still gives the facts.
    assert facts["start"] == ("unusable: start_contents: none for 2 of the start frames' digests, "
                              f"first {START.digests[0]:#018x} (pfn 0x0): replay could not give "
                              "the guest those bytes")
    # Reading the start state reaches the cut chunk, which info then reports too.
    assert err.startswith(f"xenrr: {partial}: damaged: ") and err.count("\n") == 1
    assert err.endswith("not closed: no footer (the recorder did not finish)\n")


def test_not_a_trace(tmp_path, capsys):
    path = tmp_path / "x"
    path.write_bytes(b"hello")
    assert main(["log", "info", str(path)]) == 1
    assert capsys.readouterr() == (
        "", f"xenrr: {path}: not a xenrr trace (5 bytes, shorter than a file header)\n")
