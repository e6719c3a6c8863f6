"""libvirt's libxl hook: record marked domains from their first instruction.

`xenrr install-hooks` installs dom0-tools/libvirt-hook, which calls main()
here, as /etc/libvirt/hooks/libxl.d/xenrr. A domain whose XML carries
<xenrr:record dir="..."/> (xenrr/libvirt/metadata.py) gets a recorder each
time libvirt starts it; every other domain is left alone.

What libvirt does, read in its source: src/libxl/libxl_domain.c of the 9.x
series (Debian bookworm has 9.0.0), src/util/virhook.c and vircommand.c of
earlier releases; 9.0.0's libvirt.so.0 has the same hook messages plus
those of the hooks/DRIVER.d/ directories (libvirt 6.5 and later):

- libxlDomainStart calls libxlDomainStartPrepare, which runs
  `libxlDomainHookRun(driver, vm->def, 0, VIR_HOOK_LIBXL_OP_PREPARE,
  VIR_HOOK_SUBOP_BEGIN, NULL)` ("prepare begin") before it sets up locks,
  networks and host devices; then libxlDomainStartPerform runs, after
  libxlBuildDomainConfig and the dom0 balloon, `...VIR_HOOK_LIBXL_OP_START,
  VIR_HOOK_SUBOP_BEGIN...` ("start begin"), then `virObjectUnlock(vm)` and
  `libxl_domain_create_new(cfg->ctx, &d_config, &domid, NULL,
  &aop_console_how)` (libxlDomainCreateRestoreWrapper for a restore),
  stores its XML as libxl userdata, then `if (!start_paused)
  libxlDomainUnpauseWrapper(cfg->ctx, domid)`, saves its state, and only
  then runs `...VIR_HOOK_LIBXL_OP_STARTED...` ("started begin"): the guest
  already runs. No hook runs between creation and the unpause.
- While "prepare" and "start" run, libvirt holds the domain object's lock
  (it unlocks just before libxl_domain_create_new): a hook that called back
  into libvirt about this domain would deadlock. This one never calls libvirt.
- A failed start (a hook exiting non-zero included) goes through
  libxlDomainCleanup, as does every stop: it runs `...VIR_HOOK_LIBXL_OP_STOPPED,
  VIR_HOOK_SUBOP_END...` ("stopped end") first and `...OP_RELEASE...`
  ("release end") last, both with `ignore_value`, after the Xen domain was
  destroyed (libxlDomainShutdownHandleDestroy calls
  libxlDomainDestroyInternal, then libxlDomainCleanup). A reboot with
  on_reboot=restart is libxlDomainDestroyInternal, libxlDomainCleanup,
  libxlDomainStartNew: a new start, so a new trace.
- libxlDomainHookRun formats `virDomainDefFormat(def, driver->xmlopt,
  def_fmtflags)` with flags 0 (the live definition: <metadata> included,
  id='N' only once the domain exists) and calls `virHookCall(
  VIR_HOOK_DRIVER_LIBXL, def->name, hookop, hooksubop, NULL, xml, output)`.
- virHookCall runs `virCommandNewArgList(path, id, opstr, subopstr, extra,
  NULL)`, so argv is NAME OP SUBOP - (extra NULL becomes "-"), with the
  XML on stdin (virCommandSetInputBuffer) and a bare environment
  (virCommandAddEnvPassCommon: PATH, HOME, USER, LOGNAME, TMPDIR, LC_ALL=C).
  Since libvirt 6.5 every executable in hooks/libxl.d/ runs too, in
  alphabetical order, with the same arguments and input. Which hooks exist
  is looked up when libvirtd starts and when it reloads (SIGHUP).
- virCommandRun captures the hook's stdout and stderr itself, reads both to
  their end (virCommandProcessIO), logs them at debug level ("Result ...,
  stdout: ... stderr: ...") and, on a non-zero exit, fails with "Child
  process (...) unexpected exit status N: STDERR". So this hook's one-line
  messages reach the user when it refuses a start, the debug log otherwise;
  and the recorder it leaves running must not hold those pipes, or libvirt
  would wait for the recording to end.

And of Xen (4.17, xen/common/domain.c): domain_create sets
`d->controller_pause_count = 1`; XEN_DOMCTL_pausedomain adds one,
XEN_DOMCTL_unpausedomain takes one off, and the domain runs only at 0. A
pause taken before libvirt's unpause outlasts it.

The design, then. At "start begin" the domain does not exist yet: the hook
checks the mark and the trace directory (each problem one line on stderr;
exit 0 so the domain starts unrecorded, exit 1 if the mark says strict,
which makes libvirt refuse the start), then starts a detached recorder
(`xenrr libvirt record-when-created`, xenrr/libvirt/recorder.py) with the
XML on its stdin, and returns only once the recorder has set its xenstore
watches and said "ready" on a pipe of the hook's own. The recorder pauses
the domain as soon as libxl creates it, long before libvirt's unpause (the
race, and what happens if it is lost, are in recorder.py), enables CREW
recording once the build is done, and unpauses. The trace goes to
DIR/NAME-YYYYmmdd-HHMMSS.xrr, the recorder's messages to the .log beside
it. At "stopped end" the hook tells a recorder still waiting for its domain
to give up, and waits (STOPPED_WAIT_SECONDS at most) for one that records
to close its trace (xenrr/libvirt/lock.py).

Restores go through the same "start" with a saved guest that resumes
mid-run. A managed save image (libxlDomainStartNew restores from
LIBXL_SAVE_DIR/NAME.save) is seen and refused like any start that cannot
be recorded from its first instruction; `virsh restore FILE` and incoming
migration look to the hook exactly like a fresh start.
"""

import os
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from xenrr.errors import UsageError
from xenrr.libvirt.lock import WAITING, RecorderLock
from xenrr.libvirt.metadata import LibvirtDomain, MetadataError, parse_domain

SAVE_DIR = Path("/var/lib/libvirt/libxl/save")   # LIBXL_SAVE_DIR of libvirt's libxl driver
READY_SECONDS = 120.0          # for the recorder to start: Python imports are slow under TCG
STOPPED_WAIT_SECONDS = 20.0    # for a recorder to close its trace: its last drain, under TCG too
TRACE_SUFFIXES = (".xrr", ".xrr.partial", ".log")


def _recorder_command() -> list[str]:
    """How to start the recorder; $XENRR_LIBVIRT_RECORDER replaces it in tests.

    (libvirtd's bare environment never carries that variable.)
    """
    override = os.environ.get("XENRR_LIBVIRT_RECORDER")
    if override:
        return shlex.split(override)
    return [sys.executable, "-m", "xenrr", "libvirt", "record-when-created"]


def trace_path(directory: Path, name: str, now: float | None = None) -> Path:
    """DIR/NAME-YYYYmmdd-HHMMSS.xrr (-2, -3... if taken); refused if DIR cannot take it."""
    if not directory.exists():
        raise UsageError(f"the trace directory {directory} does not exist")
    if not directory.is_dir():
        raise UsageError(f"the trace directory {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write in the trace directory {directory}")
    stem = f"{name.replace('/', '_')}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    n = 1
    while True:
        base = stem if n == 1 else f"{stem}-{n}"
        if not any(os.path.lexists(directory / (base + s)) for s in TRACE_SUFFIXES):
            return directory / (base + ".xrr")
        n += 1


def _refuse_restore(name: str) -> None:
    if (SAVE_DIR / f"{name}.save").exists():
        raise UsageError(f"libvirt restores it from its managed save image "
                         f"{SAVE_DIR / name}.save, so it would not start at its first "
                         "instruction")


def _start_recorder(domain: LibvirtDomain, trace: Path, xml: str) -> str:
    """Start the detached recorder and wait for its "ready"; its pid, or UsageError."""
    log = trace.with_suffix(".log")
    argv = [*_recorder_command(), domain.uuid, "--name", domain.name, "--output", str(trace),
            "--log", str(log)] + (["--strict"] if domain.request.strict else [])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd="/", start_new_session=True)
    try:
        proc.stdin.write(xml.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass   # it ended already: what it said follows
    said = _read_until_ready(proc.stdout.fileno(), READY_SECONDS)
    proc.stdout.close()
    if said == "ready":
        return str(proc.pid)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    reason = said.removeprefix("xenrr: ") or f"it did not start within {READY_SECONDS:.0f} s"
    raise UsageError(f"the recorder could not start: {reason}")


def _read_until_ready(fd: int, timeout: float) -> str:
    """'ready', or the last line the recorder wrote before it ended (or timed out)."""
    deadline = time.monotonic() + timeout
    text = b""
    while (left := deadline - time.monotonic()) > 0 and select.select([fd], [], [], left)[0]:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        text += chunk
        if b"\nready\n" in b"\n" + text:
            return "ready"
    lines = text.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def _on_start(name: str, xml: str) -> int:
    domain = parse_domain(xml)
    if domain.request is None:
        return 0
    try:
        trace = trace_path(domain.request.dir, domain.name)
        _refuse_restore(domain.name)
        pid = _start_recorder(domain, trace, xml)
    except (UsageError, OSError) as e:
        raise MetadataError(str(e), domain.request.strict) from None
    print(f"xenrr: domain {name}: recorder {pid} waits for Xen to create it; trace {trace}",
          file=sys.stderr)
    return 0


def _on_stopped(name: str, xml: str) -> int:
    try:
        lock = RecorderLock(parse_domain(xml).uuid)
    except MetadataError:
        return 0   # "start" said what was wrong, and left no recorder
    holder = lock.holder()
    if holder is None:
        return 0
    if holder.phase == WAITING and holder.pid:
        os.kill(holder.pid, signal.SIGTERM)
    if not lock.wait_released(STOPPED_WAIT_SECONDS):
        print(f"xenrr: domain {name}: its recorder (pid {holder.pid}) has not closed its trace "
              f"after {STOPPED_WAIT_SECONDS:.0f} s; it goes on by itself", file=sys.stderr)
    return 0


OPERATIONS = {"start": _on_start, "stopped": _on_stopped}


def main(argv: list[str], stdin=None) -> int:
    """Run as libvirt's hook: argv is NAME OP SUBOP EXTRA, the domain XML on stdin.

    Every problem is one line on stderr; the exit status is 1 only when a
    marked domain asked for strict mode and cannot be recorded.
    """
    if len(argv) < 2:
        print("xenrr: the libvirt hook takes NAME OP SUBOP EXTRA (libvirt runs it)",
              file=sys.stderr)
        return 0
    name, op = argv[0], argv[1]
    handler = OPERATIONS.get(op)
    if handler is None:
        return 0
    xml = (stdin or sys.stdin).read()
    try:
        return handler(name, xml)
    except MetadataError as e:   # from "start" only
        outcome = "strict mode: libvirt will not start it" if e.strict else "it starts unrecorded"
        print(f"xenrr: domain {name}: {e} ({outcome})", file=sys.stderr)
        return 1 if e.strict else 0
    except Exception as e:  # noqa: BLE001 - the hook never stops a domain by its own failure
        print(f"xenrr: domain {name}: internal error in the hook, {op} goes on: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        return 0
