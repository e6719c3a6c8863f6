"""The private deb-src list is derived from the system's sources, whatever their format."""

import pytest

from xenrr.errors import LabError
from xenrr.lab.aptsrc import derive_source_list


def etc_apt(tmp_path, sources_list: str = "", **parts: str):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(sources_list)
    for name, text in parts.items():
        (tmp_path / "sources.list.d" / name.replace("_", ".")).write_text(text)
    return tmp_path


def test_deb822_entries_become_deb_src_with_the_same_fields(tmp_path):
    text = derive_source_list(etc_apt(tmp_path, debian_sources=(
        "Types: deb\n"
        "# a comment\n"
        "URIs: http://mirror.invalid/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb-src\n"
        "URIs: http://other.invalid/debian\n"
        "Suites: bookworm\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "Enabled: no\n"
        "URIs: http://disabled.invalid/debian\n"
        "Suites: bookworm\n"
        "Components: main\n")))
    assert text == ("Types: deb-src\n"
                    "URIs: http://mirror.invalid/debian\n"
                    "Suites: bookworm bookworm-updates\n"
                    "Components: main\n"
                    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")


def test_one_line_entries_and_their_options_are_converted(tmp_path):
    text = derive_source_list(etc_apt(
        tmp_path,
        "# comment\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main contrib\n"
        "deb-src http://mirror.invalid/debian bookworm main\n",
        extra_list="deb http://security.invalid/debian-security bookworm-security main\n"))
    assert text == ("Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n"
                    "Components: main contrib\nArchitectures: amd64\nSigned-By: /k.gpg\n\n"
                    "Types: deb-src\nURIs: http://security.invalid/debian-security\n"
                    "Suites: bookworm-security\nComponents: main\n")


def test_a_system_without_deb_entries_is_an_error(tmp_path):
    with pytest.raises(LabError, match="no enabled 'deb' entries"):
        derive_source_list(etc_apt(tmp_path, "deb-src http://mirror.invalid/debian bookworm main\n"))
