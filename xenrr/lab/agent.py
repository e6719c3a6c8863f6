"""The lab agent: runs in dom0 and executes the host's commands, one at a time.

Host and dom0 talk through a directory shared over virtio-9p (the lab share);
a shared directory needs no extra device or driver and survives being read by
a person when something goes wrong. The layout, used by both sides:

  boot.env             written by the host before boot (sourced by dom0/stage2)
  ready                written by the agent when the toolstack is up
  requests/N.json      the host's request: {"argv", "cwd", "env", "timeout"}
                       or {"op": "shutdown"}; written to a temporary name first
  results/N.out, .err  the command's output, written while it runs
  results/N.status     {"returncode", "elapsed", "timed_out", "error"}: written
                       last (by rename), so its presence means the command ended
  files/               what dom0's commands write for the host to read (traces):
                       the only place writable from both sides (xenrr's cache is
                       read-only in dom0)

Stdlib only, and nothing from xenrr outside this module: it must start fast
inside dom0 under TCG.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.05
DOM0_ROOT = Path("/xenrr-lab")   # where dom0 mounts the share (dom0/init, dom0/stage2)


class Share:
    """Paths of the lab share; the one definition both sides use."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.boot_env = self.root / "boot.env"
        self.stage2 = self.root / "stage2"
        self.ready = self.root / "ready"
        self.requests = self.root / "requests"
        self.results = self.root / "results"
        self.files = self.root / "files"

    def create(self) -> None:
        for d in (self.requests, self.results, self.files):
            d.mkdir(parents=True, exist_ok=True)

    def in_dom0(self, path: Path) -> Path:
        """The path dom0 knows a file of the share by."""
        return DOM0_ROOT / Path(path).relative_to(self.root)

    def request(self, n: int) -> Path:
        return self.requests / f"{n:06d}.json"

    def out(self, n: int) -> Path:
        return self.results / f"{n:06d}.out"

    def err(self, n: int) -> Path:
        return self.results / f"{n:06d}.err"

    def status(self, n: int) -> Path:
        return self.results / f"{n:06d}.status"


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text)
    os.rename(tmp, path)


def _execute(share: Share, n: int, request: dict) -> dict:
    env = dict(os.environ, **request.get("env", {}))
    cwd = request.get("cwd") if os.path.isdir(request.get("cwd") or "") else "/"
    started = time.monotonic()
    with open(share.out(n), "wb") as out, open(share.err(n), "wb") as err:
        try:
            proc = subprocess.Popen(request["argv"], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    cwd=cwd, env=env, start_new_session=True)
        except OSError as e:
            err.write(f"xenrr-lab: cannot run {request['argv'][0]}: {e.strerror}\n".encode())
            return {"returncode": 127, "elapsed": 0.0, "timed_out": False, "error": str(e)}
        try:
            returncode = proc.wait(timeout=request.get("timeout"))
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            returncode = proc.wait()
            timed_out = True
    return {"returncode": returncode, "elapsed": round(time.monotonic() - started, 3),
            "timed_out": timed_out, "error": None}


def serve(share: Share) -> int:
    """Run requests in order until a shutdown request arrives."""
    write_atomically(share.ready, json.dumps({"pid": os.getpid()}))
    while True:
        pending = sorted(p for p in os.listdir(share.requests) if p.endswith(".json"))
        if not pending:
            time.sleep(POLL_SECONDS)
            continue
        path = share.requests / pending[0]
        request = json.loads(path.read_text())
        path.unlink()
        if request.get("op") == "shutdown":
            return 0
        n = int(path.stem)
        write_atomically(share.status(n), json.dumps(_execute(share, n, request)))


if __name__ == "__main__":
    sys.exit(serve(Share(Path(sys.argv[1]))))
