import pytest

from xenrr.errors import ConfigError
from xenrr.xlcfg import ConfigSyntaxError, load


def test_load_parses_the_file_with_overrides(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text("name = 'g'\nmemory = 512\n")
    assert load(path, ["memory=1024"]) == {"name": "g", "memory": "1024"}
    assert load(str(path)).source == str(path)


def test_bytes_that_are_not_utf8_survive(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_bytes(b"name = '\xff\xc3\xa9'\n")
    assert load(path)["name"].encode("utf-8", "surrogateescape") == b"\xff\xc3\xa9"


def test_errors_carry_the_path(tmp_path):
    path = tmp_path / "guest.cfg"
    path.write_text("memory = \n")
    with pytest.raises(ConfigSyntaxError, match=f"^{path}:1:10: expected a value"):
        load(path)


@pytest.mark.parametrize("name", ["missing.cfg", "."])
def test_an_unreadable_file_is_one_line(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read the domain configuration: ")
    assert "\n" not in message and "Errno" not in message
