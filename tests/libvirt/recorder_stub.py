"""Stands in for `xenrr libvirt record-when-created` where the hook starts it.

It keeps the recorder's side of the protocol with the hook (xenrr/libvirt/hook.py):
it reads the domain XML on stdin, holds the domain's RecorderLock, says "ready"
and stops writing to the hook's pipe. It writes what it was given to
$STUB_REPORT (JSON), then behaves as $STUB_MODE says:
  wait       phase "waiting" until SIGTERM (libvirt stopped the domain early)
  record     phase "recording" for $STUB_SECONDS, then exit (a trace closing)
  fail       say a one-line error before "ready" and exit 1
"""

import json
import os
import signal
import sys
import time

from xenrr.errors import UsageError
from xenrr.libvirt.lock import RECORDING, RecorderLock

mode = os.environ["STUB_MODE"]
report = {"argv": sys.argv[1:], "stdin": sys.stdin.read(), "pid": os.getpid(),
          "sid": os.getsid(0), "ended": None}


def write_report() -> None:
    with open(os.environ["STUB_REPORT"], "w") as f:
        json.dump(report, f)


if mode == "fail":
    write_report()
    print("xenrr: no xenstore device (/dev/xen/xenbus): this is not a Xen dom0", file=sys.stderr)
    sys.exit(1)

lock = RecorderLock(sys.argv[1])
try:
    lock.acquire()
except UsageError as e:   # as the recorder's CLI says it
    print(f"xenrr: {e}", file=sys.stderr)
    sys.exit(1)


def terminated(*_):
    report["ended"] = "SIGTERM"
    write_report()
    sys.exit(0)


signal.signal(signal.SIGTERM, terminated)
write_report()
print("ready", flush=True)
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
os.dup2(devnull, 2)
if mode == "wait":
    time.sleep(60)
    report["ended"] = "timeout"
else:
    lock.set_phase(RECORDING)
    time.sleep(float(os.environ["STUB_SECONDS"]))
    report["ended"] = "closed"
write_report()
