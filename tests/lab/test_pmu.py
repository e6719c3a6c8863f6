"""The lab CPU's branch counter, checked by a bare-metal kernel under the lab's QEMU (no Xen).

Each boot takes well under a second (xenrr/lab/baremetal). What should
count is in docs/lab-pmu.md; the expectations below restate it per routine
of xenrr/lab/baremetal/guest/branches.S.
"""

import pytest

from xenrr.lab.baremetal import builder
from xenrr.lab.baremetal.run import run
from xenrr.lab.qemubuild import BINARY, QemuBuilds, QemuSpec

pytestmark = pytest.mark.lab

NS = (1, 1000, 20011)
KS = (1, 2, 100, 4097, 65537)
MARGIN = 64
SKID = 32
SKID_KS = (1, 3, 17, 100, 1000, 4099, 65537, 100003)
CPLS = (0, 3)

# Conditional branches per iteration of each routine (and nothing else counts).
PER_ITERATION = {"jcc": 1, "jcc-near": 1, "loop": 1, "loopz": 1, "loopnz": 1, "jcxz": 2,
                 "rep": 1, "fcmov": 1, "jmp": 1}


@pytest.fixture(scope="module")
def qemu():
    return QemuBuilds().build(QemuSpec.current()) / BINARY


@pytest.fixture(scope="module")
def kernel():
    return builder.build()


@pytest.fixture(scope="module")
def runs(qemu, kernel):
    """Two boots of the same checks with zero skid."""
    args = f"ns={','.join(map(str, NS))} ks={','.join(map(str, KS))} margin={MARGIN}"
    return [run(qemu, kernel, args) for _ in range(2)]


def skid_run(qemu, kernel, seed: int):
    return run(qemu, kernel, f"ks={','.join(map(str, SKID_KS))} margin={MARGIN}",
               cpu_options=f"pmu-skid={SKID},pmu-skid-seed={seed}")


@pytest.fixture(scope="module")
def skid_runs(qemu, kernel):
    """Two boots with the same skid seed, one with another."""
    return [skid_run(qemu, kernel, seed) for seed in (7, 7, 8)]


def test_the_same_checks_give_the_same_records_run_after_run(runs):
    assert runs[0].records == runs[1].records
    assert runs[0].of("count")


@pytest.mark.parametrize("cpl", CPLS)
@pytest.mark.parametrize("routine", sorted(PER_ITERATION))
def test_a_routine_counts_exactly_its_conditional_branches(runs, routine, cpl):
    """USR only at CPL 3, OS only at CPL 0: no constant, each N."""
    records = runs[0].of("count", routine=routine, cpl=cpl)
    assert sorted(r["n"] for r in records) == sorted(NS)
    for r in records:
        assert r["got"] == PER_ITERATION[routine] * r["n"], r


def test_rep_string_fcmov_and_unconditional_jumps_add_nothing(runs):
    """Spelled out: QEMU's own loops (rep movsb/stosb/cmpsb/scasb of 512 bytes, fcmov) do not count."""
    for routine in ("rep", "fcmov", "jmp"):
        for r in runs[0].of("count", routine=routine):
            assert r["got"] == r["n"], r


def mode(runs, name: str, cpl: int) -> dict:
    (record,) = runs[0].of("mode", mode=name, cpl=cpl)
    return record


@pytest.mark.parametrize("name", ["disabled", "event-c2", "event-1d1", "umask-1", "guest-only"])
@pytest.mark.parametrize("cpl", CPLS)
def test_a_counter_that_is_off_or_counts_another_event_counts_nothing(runs, name, cpl):
    assert mode(runs, name, cpl)["got"] == 0


def test_usr_and_os_select_the_privilege_level(runs):
    n = NS[-1]
    assert mode(runs, "usr", 0)["got"] == 0
    assert mode(runs, "usr", 3)["got"] == n
    assert mode(runs, "os", 0)["got"] == n
    # At CPL 3, OS counts only the kernel's way back from the user loop (int $0x80).
    kernel_exit = mode(runs, "os", 3)["got"]
    assert 0 < kernel_exit < 64
    assert mode(runs, "usr+os", 0)["got"] == n
    assert mode(runs, "usr+os", 3)["got"] == n + kernel_exit


@pytest.mark.parametrize("name", ["host-only", "host+guest"])
def test_host_only_counts_outside_svm_guests(runs, name):
    for cpl in CPLS:
        assert mode(runs, name, cpl)["got"] == mode(runs, "usr+os", cpl)["got"]


@pytest.mark.parametrize("cpl", CPLS)
def test_rdpmc_returns_the_counter(runs, cpl):
    records = runs[0].of("rdpmc", cpl=cpl)
    assert sorted(r["n"] for r in records) == sorted(NS)
    for r in records:
        assert r["got"] == r["n"], r


def test_rdpmc_faults_as_hardware_does(runs):
    """#GP at CPL 3 without CR4.PCE, and for a counter that does not exist."""
    got = {(r["case"], r["cpl"], r["pce"]): r["vector"] for r in runs[0].of("rdpmc-fault")}
    assert got == {
        ("counter-0", 0, 0): 0, ("counter-0", 0, 1): 0,
        ("counter-0", 3, 0): 13, ("counter-0", 3, 1): 0,
        ("counter-4", 0, 0): 13, ("counter-4", 0, 1): 13,
        ("counter-4", 3, 0): 13, ("counter-4", 3, 1): 13,
    }


@pytest.mark.parametrize("lvt,vector", [("fixed", 0xF0), ("nmi", 2)])
@pytest.mark.parametrize("cpl", CPLS)
def test_the_overflow_interrupt_comes_exactly_after_k_branches(runs, lvt, vector, cpl):
    records = runs[0].of("pmi", lvt=lvt, cpl=cpl)
    assert sorted(r["k"] for r in records) == sorted(KS)
    for r in records:
        assert (r["pmis"], r["done"], r["vector"], r["at_cpl"]) == (1, r["k"], vector, cpl), r
        if cpl == 3:    # the handler (CPL 0) does not count: the counter has just wrapped
            assert r["ctr"] == 0, r


def test_a_masked_lvt_entry_delivers_nothing_and_the_counter_wraps(runs):
    (r,) = runs[0].of("pmi", lvt="masked")
    assert r["pmis"] == 0
    assert r["final"] == MARGIN


def test_with_skid_the_interrupt_comes_within_the_bound(skid_runs):
    delays = []
    for r in skid_runs[0].of("pmi"):
        if r["lvt"] == "masked":
            continue
        assert r["pmis"] == 1, r
        delay = r["done"] - r["k"]
        assert 0 <= delay <= SKID, r
        if r["cpl"] == 3:
            assert r["ctr"] == delay, r
        delays.append(delay)
    assert len(delays) == 4 * len(SKID_KS)
    assert len(set(delays)) > 3, delays


def test_the_skid_seed_decides_the_delays(skid_runs):
    def delays(run):
        return [r["done"] - r["k"] for r in run.of("pmi") if r["lvt"] != "masked"]

    assert delays(skid_runs[0]) == delays(skid_runs[1])
    assert delays(skid_runs[0]) != delays(skid_runs[2])
