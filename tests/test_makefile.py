"""The Makefile's set-up entry points refuse clearly when they cannot work."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to drop to an unprivileged user")
@pytest.mark.parametrize("target", ["demo", "test"])
def test_a_non_root_run_says_it_needs_root(target):
    # A copy where all may read it: the checkout may be where only root can
    # go (a clone in a mktemp directory, pytest's tmp_path).
    with tempfile.TemporaryDirectory(prefix="xenrr-make-") as tmp:
        Path(tmp).chmod(0o755)
        shutil.copy(ROOT / "Makefile", Path(tmp) / "Makefile")
        (Path(tmp) / "Makefile").chmod(0o644)
        proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                               "--clear-groups", "make", "-s", "-C", tmp, target],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.startswith("xenrr: make demo and make test need root")
    assert "Traceback" not in proc.stderr
