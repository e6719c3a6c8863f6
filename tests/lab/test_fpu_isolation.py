"""dom0's vector registers stay its own while Xen switches vCPUs (the lab's eager FPU).

Found while chasing "memory corruption while recording": with Xen's default lazy
FPU switching, QEMU's TCG lets AVX instructions run without the #NM trap that
would have Xen load the running vCPU's registers, so one dom0 process computed
with another's. Numpy arrays filled with one value read back with another, and
the recorder, `xl` and python died in malloc. Without `spec-ctrl=eager-fpu` this
test fails (164 leaks in 405,760 checks); with it, none.
"""

import re
from pathlib import Path

import pytest

import xenrr.lab

pytestmark = pytest.mark.lab

SOURCE = Path(__file__).resolve().parent / "dom0" / "fpu_isolation.c"
HARNESS = Path(xenrr.lab.__file__).resolve().parent / "guest"   # harness.h
SECONDS = 10


def test_a_vcpus_avx_registers_survive_xen_switching_vcpus_on_one_cpu(lab):
    # Both dom0 vCPUs on physical CPU 0, so Xen switches between them all the time.
    script = (f"set -e; gcc -O2 -Wall -Wextra -Werror -I {HARNESS} "
              f"-o /tmp/fpu_isolation {SOURCE}; "
              "xl vcpu-pin 0 all 0; trap 'xl vcpu-pin 0 all all' EXIT; "
              f"/tmp/fpu_isolation {SECONDS}")
    result = lab.run(["sh", "-c", script], timeout=SECONDS + 120)
    assert result.returncode == 0, result.stderr
    m = re.fullmatch(r"switches-seen=(\d+) checks=(\d+) seconds=\S+\n", result.stdout)
    assert m, result.stdout
    leaks, checks = int(m[1]), int(m[2])
    assert checks > 0
    assert leaks == 0, f"{leaks} of {checks} checks found another vCPU's AVX registers"
