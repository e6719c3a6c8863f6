import pytest

from xenrr.cli import main


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text("name = 'guest'\nmemory = 512\nvcpus = 2\n")
    return path


@pytest.mark.parametrize("flags", [[], ["-c"], ["-p"], ["-q"], ["--quiet"], ["-c", "-p", "-q"]])
def test_a_missing_trace_is_refused_in_one_line_with_status_1(capsys, config, tmp_path, flags):
    trace = tmp_path / "trace"
    assert main(["replay", str(config), str(trace), *flags]) == 1
    assert capsys.readouterr() == ("", f"xenrr: {trace}: no such trace file\n")


def test_flags_may_come_first_as_with_xl_create(capsys, config):
    assert main(["replay", "-p", "-c", str(config), "t"]) == 1
    assert capsys.readouterr() == ("", "xenrr: t: no such trace file\n")


def test_overrides_are_read_as_xl_create_reads_them(capsys, config):
    assert main(["replay", str(config), "t", "memory="]) == 1
    assert "memory=" in capsys.readouterr().err


def test_a_malformed_config_gets_its_one_line_error(capsys, tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text("name = 'guest'\nmemory = \n")
    assert main(["replay", str(path), "t"]) == 1
    assert capsys.readouterr() == (
        "", f"xenrr: {path}:2:10: expected a value after '=', found end of line\n")


def test_a_missing_config_gets_one_line(capsys, tmp_path):
    path = tmp_path / "absent.cfg"
    assert main(["replay", str(path), "t"]) == 1
    assert capsys.readouterr() == (
        "", f"xenrr: {path}: cannot read the domain configuration: No such file or directory\n")


def test_help_lists_the_xl_create_flags(capsys):
    assert main(["replay", "--help"]) == 0
    out = capsys.readouterr().out
    for line in ("-c           Connect to the console after the domain is created (with",
                 "-p           Leave the domain paused at its start, once proven.",
                 "-q, --quiet  Quiet."):
        assert line in out


def test_a_missing_trace_is_a_usage_error(capsys, config):
    assert main(["replay", str(config)]) == 2
    assert "Missing argument 'TRACE'" in capsys.readouterr().err
