"""The lab QEMU's build key, its patch series and its configure step (no QEMU build)."""

import json

import pytest

from xenrr.errors import LabError
from xenrr.lab import qemubuild
from xenrr.lab.qemubuild import QemuBuilds, QemuSpec, built_qemu
from xenrr.lab.srcbuild import Series


def write_series(directory, patches: dict[str, str]) -> Series:
    directory.mkdir()
    for name, text in patches.items():
        (directory / name).write_text(text)
    (directory / "series").write_text("".join(f"{name}\n" for name in patches))
    return Series.load(directory)


@pytest.fixture
def spec(tmp_path):
    return QemuSpec(write_series(tmp_path / "p", {"0001-a.patch": "a", "0002-b.patch": "b"}))


def test_the_key_is_stable_for_the_same_inputs(spec, tmp_path):
    again = QemuSpec(write_series(tmp_path / "q", {"0001-a.patch": "a", "0002-b.patch": "b"}))
    assert spec.key == again.key


def test_the_key_follows_every_patch(spec, tmp_path):
    changed = QemuSpec(write_series(tmp_path / "q", {"0001-a.patch": "a", "0002-b.patch": "B"}))
    assert spec.key != changed.key


@pytest.mark.parametrize("name,value", [
    ("SOURCE_VERSION", "1:7.2+dfsg-7+deb12u19"),
    ("CONFIGURE", qemubuild.CONFIGURE + ("--enable-slirp",)),
])
def test_the_key_follows_the_source_version_and_the_configure_options(spec, monkeypatch,
                                                                      name, value):
    before = spec.key
    monkeypatch.setattr(qemubuild, name, value)
    assert spec.key != before


def test_the_key_follows_the_compiler(spec, monkeypatch):
    before = spec.key
    monkeypatch.setattr(qemubuild, "compiler_identity", lambda: "gcc (Debian 13.1.0-1) 13.1.0")
    assert spec.key != before


def test_the_trees_series_has_upstream_style_patches():
    series = Series.load(qemubuild.PATCHES)
    assert len(series.patches) >= 4
    for i, patch in enumerate(series.patches, 1):
        text = patch.data.decode()
        assert patch.name.startswith(f"{i:04d}-"), patch.name
        assert text.startswith("From: "), patch.name
        assert f"\nSubject: [PATCH {i}/{len(series.patches)}] " in text, patch.name
        assert "\n---\n" in text and "\ndiff --git a/" in text, patch.name


def test_the_configuration_builds_one_target_and_the_labs_devices():
    assert "--target-list=x86_64-softmmu" in qemubuild.CONFIGURE
    assert "--with-devices-x86_64=xenrr-lab" in qemubuild.CONFIGURE
    devices = Series.load(qemubuild.PATCHES).patches[0].data.decode()
    assert "configs/devices/x86_64-softmmu/xenrr-lab.mak" in devices


def test_a_missing_build_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XENRR_CACHE", str(tmp_path))
    with pytest.raises(LabError, match=r"^no lab QEMU built for this patch series "
                                       r"\([0-9a-f]{16}\): run `xenrr lab build` first$"):
        built_qemu()


def test_a_finished_build_is_found_without_building(tmp_path, spec):
    builds = QemuBuilds(tmp_path)
    assert builds.find(spec) is None
    out = builds.path(spec)
    out.mkdir(parents=True)
    (out / "build.json").write_text(json.dumps({"series": spec.series.digest}))
    assert builds.build(spec) == out


def test_configure_runs_again_only_when_the_options_change(tmp_path, monkeypatch):
    work, build = tmp_path / "work", tmp_path / "build"
    work.mkdir()
    calls = tmp_path / "calls"
    (work / "configure").write_text(f'#!/bin/sh\necho "$@" >> {calls}\ntouch build.ninja\n')
    (work / "configure").chmod(0o755)
    with open(tmp_path / "log", "wb") as log:
        qemubuild._configure(work, build, log)
        qemubuild._configure(work, build, log)
        assert calls.read_text().splitlines() == [" ".join(qemubuild.CONFIGURE)]
        monkeypatch.setattr(qemubuild, "CONFIGURE", ("--target-list=x86_64-softmmu",))
        qemubuild._configure(work, build, log)
    assert calls.read_text().splitlines()[-1] == "--target-list=x86_64-softmmu"


def test_a_failing_configure_shows_the_logs_tail(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "configure").write_text("#!/bin/sh\necho 'ERROR: libfdt not found'\nexit 1\n")
    (work / "configure").chmod(0o755)
    with open(tmp_path / "log", "wb") as log:
        with pytest.raises(LabError, match=r"QEMU configure failed.*\n(.*\n)*ERROR: libfdt"):
            qemubuild._configure(work, tmp_path / "build", log)
