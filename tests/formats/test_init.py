"""The usage example in xenrr.formats' docstring runs as written."""

import textwrap

import xenrr.formats


def test_the_docstring_example(tmp_path, monkeypatch, capsys):
    example = xenrr.formats.__doc__.split("Writing and reading a trace:")[1].split("Only TraceError")[0]
    monkeypatch.chdir(tmp_path)
    exec(textwrap.dedent(example), {})
    assert capsys.readouterr().out == "1 0x1234 42\n[]\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.xrr"]
