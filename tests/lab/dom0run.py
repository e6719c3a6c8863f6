"""Running test scripts in the lab's dom0, and what a healthy Xen log must not say."""

import json
import re
import sys
from pathlib import Path

DOM0 = Path(__file__).resolve().parent / "dom0"
CRASH = re.compile(r"Panic on CPU|Assertion '.*' failed|Xen BUG at|FATAL TRAP|Xen call trace")


def dom0_json(lab, script: str, *args, timeout: float = 600) -> dict:
    """Run tests/lab/dom0/SCRIPT in dom0 (with the host's Python) and parse its JSON."""
    result = lab.run([sys.executable, str(DOM0 / script), *map(str, args)], timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_xen_healthy(lab) -> None:
    dmesg = lab.run(["xl", "dmesg"]).stdout
    crash = CRASH.search(dmesg)
    assert crash is None, crash.group(0)
