"""The series, the build key and patch application, on small fake trees (no Xen build)."""

import subprocess

import pytest

from xenrr.errors import LabError
from xenrr.lab import xenbuild
from xenrr.lab.srcbuild import Series
from xenrr.lab.xenbuild import BuildSpec, XenTree


def write_series(directory, patches: dict[str, str], order: list[str] | None = None):
    directory.mkdir(exist_ok=True)
    for name, text in patches.items():
        (directory / name).write_text(text)
    (directory / "series").write_text("# comment\n\n" + "".join(
        f"{name}  # why\n" for name in (order if order is not None else patches)))
    return directory


def test_the_series_lists_patches_in_order(tmp_path):
    series = Series.load(write_series(tmp_path / "p", {"0002-b.patch": "b", "0001-a.patch": "a"},
                                      ["0001-a.patch", "0002-b.patch"]))
    assert [p.name for p in series.patches] == ["0001-a.patch", "0002-b.patch"]
    assert [p.data for p in series.patches] == [b"a", b"b"]


def test_a_missing_patch_is_named_with_its_line(tmp_path):
    with pytest.raises(LabError, match=r"series:4: patch 0009-gone.patch does not exist"):
        Series.load(write_series(tmp_path / "p", {"0001-a.patch": "a"},
                                 ["0001-a.patch", "0009-gone.patch"]))


def test_a_missing_series_file_is_an_error(tmp_path):
    with pytest.raises(LabError, match="series is missing"):
        Series.load(tmp_path)


def test_the_digest_follows_every_patch_and_the_order(tmp_path):
    base = Series.load(write_series(tmp_path / "a", {"1.patch": "x", "2.patch": "y"})).digest
    changed = Series.load(write_series(tmp_path / "b", {"1.patch": "x", "2.patch": "Y"})).digest
    reordered = Series.load(write_series(tmp_path / "c", {"1.patch": "x", "2.patch": "y"},
                                         ["2.patch", "1.patch"])).digest
    assert len({base, changed, reordered}) == 3
    assert Series.load(write_series(tmp_path / "d", {"1.patch": "x", "2.patch": "y"})).digest == base


def test_the_build_key_separates_debug_and_release(tmp_path):
    series = Series.load(write_series(tmp_path / "p", {"1.patch": "x"}))
    assert BuildSpec(series).key != BuildSpec(series, release=True).key
    assert xenbuild.kconfig(False)["CONFIG_DEBUG"] == "y"
    assert xenbuild.kconfig(True)["CONFIG_DEBUG"] == "n"
    assert xenbuild.kconfig(True)["CONFIG_SHADOW_PAGING"] == "y"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"})


@pytest.fixture
def tree(tmp_path):
    """A XenTree whose pristine source is a two-file repository."""
    t = XenTree(tmp_path / "xen")
    t.src.mkdir(parents=True)
    (t.src / "xen").mkdir()
    (t.src / "xen" / "a.c").write_text("int a;\nint b;\n")
    (t.src / "xen" / "untouched.c").write_text("int u;\n")
    git(t.src, "init", "-q")
    git(t.src, "add", "-A")
    git(t.src, "commit", "-qm", "pristine")
    git(t.src, "tag", "pristine")
    return t


PATCH = """--- a/xen/a.c
+++ b/xen/a.c
@@ -1,2 +1,2 @@
 int a;
-int b;
+int c;
"""


def test_the_series_is_applied_and_untouched_files_keep_their_mtime(tree, tmp_path):
    work = tree.worktree("debug")
    untouched = work / "xen" / "untouched.c"
    before = untouched.stat().st_mtime_ns
    tree.apply_series(work, Series.load(write_series(tmp_path / "p", {"0001-c.patch": PATCH})))
    assert (work / "xen" / "a.c").read_text() == "int a;\nint c;\n"
    assert untouched.stat().st_mtime_ns == before
    tree.apply_series(work, Series.load(write_series(tmp_path / "q", {})))
    assert (work / "xen" / "a.c").read_text() == "int a;\nint b;\n"


def test_a_patch_that_does_not_apply_is_named_with_its_file(tree, tmp_path):
    work = tree.worktree("debug")
    series = Series.load(write_series(tmp_path / "p", {
        "0001-c.patch": PATCH, "0002-again.patch": PATCH}))
    with pytest.raises(LabError, match=r"^patch 0002-again.patch does not apply: xen/a.c$"):
        tree.apply_series(work, series)
