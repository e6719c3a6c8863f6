"""Fixtures shared across the test tree."""

import shutil
import subprocess

import pytest

from xenrr.lab.paths import cache_dir
from xenrr.lab.xenbuild import XenTree, hypervisor_series


@pytest.fixture(scope="session")
def patched_xen(tmp_path_factory):
    """A throw-away checkout of the pinned Xen source with the series applied.

    Tests that compare what xenrr defines with what the patches carry read
    it: the ABI (tests/hypercalls) and the trace records' C header
    (tests/formats).
    """
    tree = XenTree(cache_dir() / "xen")
    src = tree.pristine()
    work = tmp_path_factory.mktemp("xen") / "tree"
    subprocess.run(["git", "-C", str(src), "worktree", "add", "-q", "--detach", str(work),
                    "pristine"], check=True)
    tree.apply_series(work, hypervisor_series())
    yield work
    shutil.rmtree(work)
    subprocess.run(["git", "-C", str(src), "worktree", "prune"], check=True)
