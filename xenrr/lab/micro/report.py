"""Read what a micro-guest printed: its parameters, pages, result and verdict.

Every line the guest prints starts with "micro: " (Xen's console adds a
"(dN) " prefix in front, xenconsoled's log adds nothing) and is one of
  micro: <tag> key=value ...      tags: workload, page, result, digest
  micro: PASS
  micro: FAIL <why>
(guest/main.c and guest/workloads.c print them).  A run that stopped
before its verdict has passed None: it hung or crashed without saying why.
"""

from dataclasses import dataclass, field

from xenrr.errors import LabError

PREFIX = "micro: "


@dataclass(frozen=True)
class Page:
    """A page the guest shares: its region, owner vCPU if per-vCPU, frames."""

    region: str
    index: int
    gfn: int
    mfn: int
    va: int
    vcpu: int | None = None


@dataclass
class Report:
    workload: str | None = None
    vcpus: int | None = None
    iterations: int | None = None
    pages: list[Page] = field(default_factory=list)
    result: dict[str, str] = field(default_factory=dict)
    digest: str | None = None
    passed: bool | None = None
    failure: str | None = None


def _fields(line: str, words: list[str]) -> dict[str, str]:
    fields = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise LabError(f"malformed micro-guest console line: {line!r}")
        fields[key] = value
    return fields


def _int(line: str, fields: dict[str, str], key: str) -> int:
    try:
        return int(fields[key], 0)
    except (KeyError, ValueError):
        raise LabError(f"micro-guest console line lacks a number {key}=: {line!r}") from None


def _page(line: str, f: dict[str, str]) -> Page:
    return Page(f.get("region", ""), _int(line, f, "index"), _int(line, f, "gfn"),
                _int(line, f, "mfn"), _int(line, f, "va"),
                _int(line, f, "vcpu") if "vcpu" in f else None)


def parse(text: str) -> Report:
    """The report in a console text; LabError if a micro: line is malformed."""
    report = Report()
    for raw in text.splitlines():
        at = raw.find(PREFIX)
        if at < 0:
            continue
        line = raw[at + len(PREFIX):].strip()
        tag, _, rest = line.partition(" ")
        if tag == "PASS":
            report.passed = True
        elif tag == "FAIL":
            report.passed, report.failure = False, rest
        elif tag == "workload":
            f = _fields(line, rest.split())
            report.workload = f.get("name")
            report.vcpus = _int(line, f, "vcpus")
            report.iterations = _int(line, f, "iterations")
        elif tag == "page":
            report.pages.append(_page(line, _fields(line, rest.split())))
        elif tag == "result":
            report.result.update(_fields(line, rest.split()))
        elif tag == "digest":
            report.digest = _fields(line, rest.split()).get("fnv1a64")
        else:
            raise LabError(f"unknown micro-guest console line: {line!r}")
    return report
