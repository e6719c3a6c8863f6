"""Running test scripts in the lab's dom0, xenrr's log tools on the host, and what a healthy
Xen log must not say."""

import json
import re
import subprocess
import sys
from pathlib import Path

DOM0 = Path(__file__).resolve().parent / "dom0"
CRASH = re.compile(r"Panic on CPU|Assertion '.*' failed|Xen BUG at|FATAL TRAP|Xen call trace")


def dom0_json(lab, script: str, *args, timeout: float = 600) -> dict:
    """Run tests/lab/dom0/SCRIPT in dom0 (with the host's Python) and parse its JSON."""
    result = lab.run([sys.executable, str(DOM0 / script), *map(str, args)], timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def xenrr_host(*args) -> subprocess.CompletedProcess:
    """xenrr on the host, on traces in the lab's share: at native speed, not dom0's under TCG."""
    return subprocess.run([sys.executable, "-m", "xenrr", *map(str, args)],
                          capture_output=True, text=True)


def assert_xen_healthy(lab) -> None:
    dmesg = lab.run(["xl", "dmesg"]).stdout
    crash = CRASH.search(dmesg)
    assert crash is None, crash.group(0)
