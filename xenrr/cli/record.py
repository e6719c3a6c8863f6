"""`xenrr record`: record a domain with CREW into a trace file (docs/architecture.md "Record path").

    xenrr record DOMAIN [-o TRACE]                          a running domain
    xenrr record -c CFG [-p] [-q] [-o TRACE] [KEY=VALUE...] created as `xl create -p` would
    --positions auto|branch|sync-entry                      how positions are counted

Every refusal that needs no hypervisor (dom0, the output path, the options)
comes before anything is asked of Xen, and a position mode Xen does not offer
is refused before a domain is created. The recording runs until the domain
shuts down or SIGINT/SIGTERM ask it to stop; progress goes to stderr.
"""

import os
import sys
import threading
import time
from pathlib import Path

import typer

from xenrr.domains import create_paused, destroy, resolve
from xenrr.domconfig import DomainConfig
from xenrr.errors import UsageError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.record.recorder import Progress, stop_on_signals
from xenrr.record.session import POSITION_NAMES, POSITIONS_ASKED, choose_positions, record_domain

app = typer.Typer(add_completion=False, rich_markup_mode=None)

LINE_SECONDS = 5.0   # progress when stderr is not a terminal: a line this often


def output_path(given: Path | None, name: str, force: bool, now: float | None = None) -> Path:
    """Where the trace goes (default NAME-YYYYmmdd-HHMMSS.xrr here); refused if it cannot."""
    path = given or Path(f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.xrr")
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"{path}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: cannot write in {directory}")
    if os.path.lexists(path) and not force:
        raise UsageError(f"{path} exists: give --force to replace it")
    return path


def say(line: str) -> None:
    print(f"xenrr: {line}", file=sys.stderr)


def refuse_dom0(spec: str) -> None:
    if spec == "Domain-0" or (spec.isdigit() and int(spec) == 0):
        raise UsageError("domain 0 is the control domain: it cannot be recorded")


class ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, else a line now and then."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = None   # when the last line was written

    def __call__(self, p: Progress) -> None:
        text = (f"{p.events_per_second:.0f} events/s, trace {p.trace_bytes / 1e6:.1f} MB, "
                "positions " + " ".join(f"{v}:{pos}" for v, pos in enumerate(p.positions)))
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
        elif self.last is None or now - self.last >= LINE_SECONDS:
            self.stream.write(text + "\n")
        else:
            return
        self.last = now
        self.stream.flush()

    def end(self) -> None:
        """Leave the line rewritten in place behind, for the messages that follow."""
        if self.tty and self.last is not None:
            self.stream.write("\n")


@app.command()
def record(
    args: list[str] = typer.Argument(None, metavar="DOMAIN | KEY=VALUE...",
                                     help="The domain to record (name or id); with -c, "
                                          "xl create's KEY=VALUE overrides."),
    config: Path = typer.Option(None, "-c", "--config", metavar="CFG",
                                help="Create the domain from this xl configuration, paused, "
                                     "and record it from its first instruction."),
    paused: bool = typer.Option(False, "-p", help="With -c: leave the domain paused "
                                                  "(recording starts when it is unpaused)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress."),
    output: Path = typer.Option(None, "-o", "--output", metavar="TRACE",
                                help="The trace file (default NAME-YYYYmmdd-HHMMSS.xrr)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing TRACE."),
    positions: str = typer.Option("auto", "--positions", metavar="auto|branch|sync-entry",
                                  help="What a position counts: branch = the vCPU's retired "
                                       "conditional branches (replay needs them), sync-entry "
                                       "= its synchronous entries into Xen; auto = branch "
                                       "where Xen offers it, else sync-entry, saying why "
                                       "(`xenrr info` shows what this machine offers)."),
) -> None:
    """Record a domain with CREW into a trace file, until it shuts down or is interrupted."""
    args = args or []
    if positions not in POSITIONS_ASKED:
        raise UsageError(f"--positions {positions}: choose auto, branch or sync-entry")
    if config is None:
        if len(args) != 1 or "=" in args[0]:
            raise UsageError("name one DOMAIN to record, or give -c CFG [KEY=VALUE...]")
        if paused:
            raise UsageError("-p applies to a domain created with -c")
        refuse_dom0(args[0])
        domain_config = None
    else:
        domain_config = DomainConfig.from_xl_file(config, args)
    if output is not None:
        output_path(output, domain_config.name if domain_config else "", force)
    progress = None if quiet else ProgressLine()
    stop = threading.Event()
    with Privcmd() as privcmd:
        mode, note = choose_positions(RrControl(privcmd).info(), positions)
        if note is not None:
            say(note)
        if config is None:
            domain = resolve(privcmd, args[0])
            domain_config = DomainConfig.from_running_domain(domain.domid)
        else:
            domain = create_paused(privcmd, domain_config)
        try:
            path = output_path(output, domain.name or str(domain.domid), force)
            if os.path.lexists(path):
                os.unlink(path)
            with stop_on_signals(stop):
                reason = record_domain(privcmd, domain, path, domain_config,
                                       created_paused=config is not None,
                                       leave_paused=paused, stop=stop, progress=progress,
                                       positions=POSITION_NAMES[mode], say=say)
        except BaseException:
            if config is not None:
                destroy(domain.domid)
            raise
        finally:
            if progress is not None:
                progress.end()
    say(f"domain {domain.domid} recorded to {path} ({reason.name.lower()})")
