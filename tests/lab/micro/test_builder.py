import shutil

import pytest

from xenrr.errors import LabError
from xenrr.lab.micro import builder, elfnotes


def test_build_puts_a_checked_elf_under_the_cache(cache):
    elf = builder.build()
    assert elf.parent.parent == cache / "micro"
    assert elf.parent.name == f"build-{builder.build_key(shutil.which('gcc'))}"
    elfnotes.check(elfnotes.read(elf))
    assert (elf.parent / "workloads.gen.h").is_file()
    assert not [p for p in elf.parent.parent.iterdir() if p.name.startswith(".build-")]


def test_a_cached_build_is_found_again_without_gcc_compiling(cache, monkeypatch):
    first = builder.build()

    def no_compile(gcc, out):
        raise AssertionError("rebuilt an unchanged guest")

    monkeypatch.setattr(builder, "_compile", no_compile)
    assert builder.build() == first


@pytest.fixture
def guest_copy(tmp_path, monkeypatch):
    """A private copy of guest/ the test may change."""
    copy = tmp_path / "guest"
    shutil.copytree(builder.GUEST_DIR, copy)
    monkeypatch.setattr(builder, "GUEST_DIR", copy)
    return copy


def test_the_key_follows_every_source_and_the_flags(guest_copy, monkeypatch):
    gcc = shutil.which("gcc")
    before = builder.build_key(gcc)
    (guest_copy / "README.md").write_text("not a source")
    assert builder.build_key(gcc) == before
    (guest_copy / "smp.h").write_text((guest_copy / "smp.h").read_text() + "\n")
    changed = builder.build_key(gcc)
    assert changed != before
    monkeypatch.setattr(builder, "CFLAGS", builder.CFLAGS + ("-g",))
    assert builder.build_key(gcc) != changed


def test_the_key_follows_the_compiler_version(monkeypatch):
    gcc = shutil.which("gcc")
    before = builder.build_key(gcc)
    monkeypatch.setattr(builder, "compiler_version", lambda gcc: "gcc 99.1")
    assert builder.build_key(gcc) != before


def test_a_compile_error_is_reported_with_gcc_s_first_error(cache, guest_copy):
    (guest_copy / "lib.c").write_text("int broken(void) { return undeclared; }\n")
    with pytest.raises(LabError) as e:
        builder.build()
    assert str(e.value).startswith("building the micro-guest failed: ")
    assert "undeclared" in str(e.value)
    assert [p.name for p in (cache / "micro").iterdir()] == []


def test_missing_gcc_names_the_debian_package(cache, monkeypatch):
    monkeypatch.setenv("PATH", str(cache))
    with pytest.raises(LabError, match="install the Debian package gcc"):
        builder.build()


def test_the_key_does_not_depend_on_where_the_sources_are(tmp_path, monkeypatch):
    gcc = shutil.which("gcc")
    here = builder.build_key(gcc)
    monkeypatch.setattr(builder, "GUEST_DIR",
                        shutil.copytree(builder.GUEST_DIR, tmp_path / "elsewhere"))
    assert builder.build_key(gcc) == here
