"""`xenrr install-hooks`: the hook put where libvirt runs it, and taken away."""

import os
import stat
import sys

from xenrr.cli import main
from xenrr.sourcetree import source_dir


def test_install_writes_the_hook_with_this_python(tmp_path, capsys):
    assert main(["install-hooks", "--root", str(tmp_path)]) == 0
    hook = tmp_path / "etc/libvirt/hooks/libxl.d/xenrr"
    assert capsys.readouterr() == ("", f"xenrr: installed {hook}; a running libvirtd sees it "
                                       "once restarted or reloaded (SIGHUP)\n")
    source = (source_dir() / "dom0-tools/libvirt-hook").read_text().splitlines(keepends=True)
    assert hook.read_text().splitlines(keepends=True) == [f"#!{sys.executable}\n", *source[1:]]
    assert stat.S_IMODE(hook.stat().st_mode) == 0o755
    assert os.listdir(hook.parent) == ["xenrr"]


def test_install_twice_replaces_and_keeps_other_hooks(tmp_path):
    other = tmp_path / "etc/libvirt/hooks/libxl.d/other"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\n")
    assert main(["install-hooks", "--root", str(tmp_path)]) == 0
    assert main(["install-hooks", "--root", str(tmp_path)]) == 0
    assert sorted(os.listdir(other.parent)) == ["other", "xenrr"]


def test_remove_takes_only_ours_away(tmp_path, capsys):
    main(["install-hooks", "--root", str(tmp_path)])
    other = tmp_path / "etc/libvirt/hooks/libxl.d/other"
    other.write_text("#!/bin/sh\n")
    capsys.readouterr()
    hook = tmp_path / "etc/libvirt/hooks/libxl.d/xenrr"
    assert main(["install-hooks", "--remove", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().err == f"xenrr: removed {hook}\n"
    assert os.listdir(other.parent) == ["other"]
    assert main(["install-hooks", "--remove", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().err == f"xenrr: {hook} was not installed\n"


def test_an_unwritable_root_is_one_line(tmp_path, capsys):
    root = tmp_path / "file"
    root.write_text("")
    assert main(["install-hooks", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"xenrr: cannot install {root}/etc/libvirt/hooks/libxl.d/xenrr: ")
    assert err.count("\n") == 1
