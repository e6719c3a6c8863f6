"""Micro-guests: tiny multi-vCPU PV kernels with known sharing patterns.

A Linux guest shares hundreds of pages nobody can predict; a micro-guest
shares exactly the pages its workload names and prints their frames, so a
CREW trace can be checked against what the guest is known to have done
(docs/architecture.md, "CREW").  The guest itself is C and assembly in guest/
(its README says how it boots); this package builds it with the host's gcc
(builder), writes xl configs for it (xlconfig) and reads what it prints
(report).
"""

from pathlib import Path

from xenrr.errors import UsageError
from xenrr.lab.micro import builder, workloads, xlconfig

MAX_ITERATIONS = 2**32 - 1


def config(workload: str, vcpus: int = 2, iterations: int | None = None) -> Path:
    """The xl config of a micro-guest running `workload`, built if needed.

    `iterations` None leaves the guest its workload's default.  The config is
    named after its domain (micro-<workload>-<vcpus>v[-<iterations>i]) in
    the micro-guest cache, next to the build whose ELF it boots.
    """
    w = workloads.by_name(workload)
    if not 1 <= vcpus <= workloads.MAX_VCPUS:
        raise UsageError(f"a micro-guest has 1 to {workloads.MAX_VCPUS} vCPUs, not {vcpus}")
    if vcpus < w.min_vcpus:
        raise UsageError(f"the {w.name} workload needs at least {w.min_vcpus} vCPUs")
    if iterations is not None and not 1 <= iterations <= MAX_ITERATIONS:
        raise UsageError(f"iterations must be 1 to {MAX_ITERATIONS}, not {iterations}")
    kernel = builder.build()
    name = xlconfig.domain_name(w.name, vcpus, iterations)
    extra = w.name if iterations is None else f"{w.name} iterations={iterations}"
    return xlconfig.write(builder.micro_dir() / f"{name}.cfg", name, kernel, vcpus, extra)
