"""docs/specs/trace-format.md states what the definitions define."""

import pytest

from xenrr.formats import spec


def test_the_document_matches_the_definitions():
    text = spec.DOC.read_text()
    assert spec.missing(text) == []
    assert spec.update(text) == text, "run: python -m xenrr.formats.spec --write"


def test_check_and_write(tmp_path, capsys):
    doc = tmp_path / "doc.md"
    doc.write_text("# t\n<!-- BEGIN GENERATED record:crew_event -->\nstale\n"
                   "<!-- END GENERATED record:crew_event -->\n")
    assert spec.main([str(doc)]) == 1
    err = capsys.readouterr().err
    assert f"{doc}: no generated block 'catalogue'" in err
    assert f"{doc}: generated blocks are out of date (run with --write)" in err
    assert spec.main([str(doc), "--write"]) == 0
    text = doc.read_text()
    assert "| 16 | 24 | `position` | Position | the actor's position" in text and "stale" not in text


def test_an_unknown_block_is_an_error():
    with pytest.raises(KeyError, match="'record:nothing' that nothing renders"):
        spec.update("<!-- BEGIN GENERATED record:nothing -->\n<!-- END GENERATED record:nothing -->")


def test_the_catalogue_lists_every_record():
    lines = spec.catalogue().splitlines()
    assert lines[2] == ("| `0x58520001` | `trace_header` | no | >= 32 | toolstack | "
                        "The domain recorded and how; the first record of the trace. |")
    assert "| `0xd8520040` | `digest` | yes | 48 (framed 56) | Xen |" in spec.catalogue()
    assert "| `0x58520004` | `start_frames` | no | >= 16 | toolstack |" in spec.catalogue()
    assert "| `0x58520005` | `xen_frame` | no | 16 (framed 24) | toolstack |" in spec.catalogue()
    assert "| `0x58520013` | `replay_wait` | no | 16 (framed 24) | toolstack |" in spec.catalogue()
    assert "| `0x58520006` | `start_contents` | no | >= 8 | toolstack |" in spec.catalogue()
    assert "| `0xd8520041` | `end_frames` | yes | >= 16 | toolstack |" in spec.catalogue()
    assert "| `0xd8520042` | `end_registers` | yes | 152 (framed 160) | toolstack |" in \
        spec.catalogue()
    assert len(lines) == 2 + 17


def test_an_array_member_names_its_element_whose_table_the_document_has():
    blocks = spec.blocks()
    assert "| 16 | var | `entries` | StartFrame[count] |" in blocks["record:start_frames"]
    assert blocks["layout:StartFrame"].splitlines()[2:4] == [
        "| 0 | 8 | `mfn` | u64 | machine frame at this pfn when recording started; INVALID_MFN "
        "where the domain had none |",
        "| 8 | 8 | `digest` | u64 | digest of that frame's contents then (see start_frames); 0 "
        "where there is no frame |"]
