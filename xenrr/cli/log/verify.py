"""`xenrr log verify TRACE`: is the trace intact? If not, what is wrong and where.

Prints one line per finding on stdout ("where: what, expected X, got Y",
from the verifier dispatch table in xenrr.formats.verify), then exits 0 for
an intact, closed trace and 1, with a one-line summary, for a damaged or
unclosed one. Exit status 2 is left to the CLI root for a failure of the tool
itself.
"""

from pathlib import Path

import typer

from xenrr.cli.log.stats import scan_progress
from xenrr.formats import TraceDamaged, TraceReader
from xenrr.formats import verify as checks


def verify(
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace file."),
) -> None:
    """Check every chunk and record of the trace; exit 0 intact, 1 damaged, 2 internal error."""
    with TraceReader(trace) as reader:
        with scan_progress(reader) as progress:
            report = checks.verify(reader, progress)
    for finding in report.findings:
        print(finding)
    if report.count > len(report.findings):
        print(f"... and {report.count - len(report.findings)} more")
    if not report.intact:
        raise TraceDamaged(f"{trace}: damaged: {report.count} problem"
                           f"{'s' * (report.count > 1)}, first: {report.findings[0]}")
    print(f"{trace}: intact: {report.chunks} chunks, {report.records} records")
