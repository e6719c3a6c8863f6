"""The micro-guest's workloads: the one table both the guest and xenrr read.

Default iteration counts keep each guest well under a second of guest time
natively under QEMU TCG (the lab), while giving the race enough overlap
between the vCPUs that its outcome differs from run to run.

The guest is compiled with a header generated from this table (the
MICRO_WORKLOADS X-macro in workloads.gen.h), so a workload named here
without its C functions in guest/workloads.c fails the build, and the
names, minimum vCPU counts and default iteration counts cannot drift
between the two languages.
"""

from dataclasses import dataclass

from xenrr.errors import UsageError

MAX_VCPUS = 4


@dataclass(frozen=True)
class Workload:
    name: str
    min_vcpus: int
    default_iterations: int
    summary: str


WORKLOADS = (
    Workload("race", 1, 500000,
             "every vCPU increments one shared counter without atomics; "
             "the final value depends on the interleaving"),
    Workload("locked", 1, 20000,
             "the same increments under a spinlock; the counter must end "
             "at vcpus x iterations"),
    Workload("pingpong", 2, 1000,
             "vCPUs 0 and 1 hand a token with a checked payload back and "
             "forth through two pages"),
    Workload("falseshare", 1, 200000,
             "each vCPU counts in its own word of one shared page"),
    Workload("private", 1, 200000,
             "each vCPU works only on its own pages; nothing is shared "
             "after the start barrier"),
    Workload("compute", 1, 10000000,
             "a long register-only arithmetic loop: a vCPU that rarely "
             "enters Xen"),
    Workload("tsc", 1, 2000,
             "each vCPU reads the TSC, spins as long as the value says and "
             "increments a shared counter without atomics: the reads and the "
             "counter depend on timing"),
    Workload("branches", 1, 100000,
             "each vCPU writes a page of its own, retires exactly "
             "iterations conditional branches, then writes a second page "
             "of its own: the branch count between the two writes is known"),
    Workload("timers", 2, 2000,
             "each vCPU takes timer ticks and IPIs through event channel "
             "upcalls while it works, sends IPIs and blocks: the order the "
             "events arrive in depends on timing"),
)


def by_name(name: str) -> Workload:
    """The workload called `name`; UsageError listing the choices if none is."""
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    choices = ", ".join(w.name for w in WORKLOADS)
    raise UsageError(f"unknown micro-guest workload {name!r} (choose from {choices})")


def c_header() -> str:
    """workloads.gen.h: the vCPU limit and X(name, min_vcpus, iterations) per workload."""
    lines = ["/* Generated from xenrr/lab/micro/workloads.py: do not edit. */",
             f"#define MICRO_MAX_VCPUS {MAX_VCPUS}",
             "#define MICRO_WORKLOADS(X) \\"]
    lines += [f"    X({w.name}, {w.min_vcpus}, {w.default_iterations}ull) \\"
              for w in WORKLOADS]
    lines.append("")
    return "\n".join(lines) + "\n"
