"""_ffi.py is what cffi makes of cdef.py now: an edit of the definition is not left half done."""

from xenrr.hypercalls import ffigen


def test_the_generated_module_matches_the_definition():
    assert ffigen.MODULE.read_text() == ffigen.render(), \
        "run: python -m xenrr.hypercalls.ffigen --write"


def test_a_stale_module_is_reported_and_rewritten(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "_ffi.py"
    stale.write_text("# stale\n")
    monkeypatch.setattr(ffigen, "MODULE", stale)
    assert ffigen.main([]) == 1
    assert "out of date with cdef.py (run with --write)" in capsys.readouterr().err
    assert ffigen.main(["--write"]) == 0
    assert stale.read_text() == ffigen.render() and ffigen.main([]) == 0
