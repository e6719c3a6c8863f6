"""The libvirt hook run as libvirt runs it: installed, argv NAME OP SUBOP -, the XML on stdin.

The recorder it starts is replaced (XENRR_LIBVIRT_RECORDER) by
recorder_stub.py, which keeps the recorder's side of the protocol and
reports what it was given. Like libvirt (virCommandRun), the test reads the
hook's stdout and stderr to their end: a hook whose recorder held them
would not return.
"""

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from xenrr.libvirt import hook
from xenrr.libvirt.install import install
from xenrr.libvirt.lock import RecorderLock
from tests.libvirt.sample import UUID, XML, marked

HERE = Path(__file__).resolve().parent


@pytest.fixture
def env():
    """A hook installed under a temporary root, run with libvirt's bare environment.

    The tree is readable by all, so that the hook can also run as nobody.
    """
    tmp_path = Path(tempfile.mkdtemp(prefix="xenrr-hook-"))
    tmp_path.chmod(0o755)
    script = install(tmp_path / "root")
    traces = tmp_path / "traces"
    traces.mkdir()
    run = tmp_path / "run"
    run.mkdir(mode=0o777)
    run.chmod(0o777)
    yield {"script": script, "traces": traces, "report": tmp_path / "report.json",
            "vars": {"PATH": os.environ["PATH"], "LC_ALL": "C", "XENRR_RUN_DIR": str(run),
                     "XENRR_LIBVIRT_RECORDER": f"{sys.executable} {HERE / 'recorder_stub.py'}",
                     "STUB_REPORT": str(tmp_path / "report.json"), "STUB_MODE": "wait",
                     "STUB_SECONDS": "1"}}
    shutil.rmtree(tmp_path)


def run_hook(env, op: str, xml: str, user: list[str] | None = None, **stub):
    argv = [*(user or []), str(env["script"]), "guest", op, "end" if op == "stopped" else "begin",
            "-"]
    return subprocess.run(argv, input=xml, capture_output=True, text=True, timeout=60,
                          env={**env["vars"], **stub})


def spawned(env) -> dict | None:
    if not env["report"].exists():
        return None
    return json.loads(env["report"].read_text())


@pytest.fixture(autouse=True)
def no_stub_left(env):
    yield
    report = spawned(env)
    if report and report["ended"] is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(report["pid"], signal.SIGKILL)


def test_an_unmarked_domain_is_left_alone(env):
    result = run_hook(env, "start", XML)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert spawned(env) is None


def test_a_marked_domain_gets_a_detached_recorder_with_the_xml(env):
    xml = marked(f'dir="{env["traces"]}"')
    result = run_hook(env, "start", xml)
    assert result.returncode == 0, result.stderr
    report = spawned(env)
    trace = Path(report["argv"][4])
    assert report["argv"] == [UUID, "--name", "guest", "--output", str(trace),
                              "--log", str(trace.with_suffix(".log"))]
    assert trace.parent == env["traces"] and trace.name.startswith("guest-")
    assert trace.suffix == ".xrr" and len(trace.stem) == len("guest-20261203-143000")
    assert report["stdin"] == xml
    assert report["sid"] == report["pid"]   # a session of its own, not libvirtd's
    assert result.stdout == ""
    assert result.stderr == (f"xenrr: domain guest: recorder {report['pid']} waits for Xen to "
                             f"create it; trace {trace}\n")


def test_strict_is_passed_on(env):
    run_hook(env, "start", marked(f'dir="{env["traces"]}" strict="yes"'))
    assert spawned(env)["argv"][-1] == "--strict"


@pytest.mark.parametrize("op", ["prepare", "started", "release", "migrate", "restore"])
def test_other_operations_start_nothing(env, op):
    result = run_hook(env, op, marked(f'dir="{env["traces"]}"'))
    assert (result.returncode, result.stderr) == (0, "")
    assert spawned(env) is None


def refusal(env, xml, **stub):
    result = run_hook(env, "start", xml, **stub)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stderr


@pytest.mark.parametrize("strict", [False, True])
def test_a_missing_directory_is_one_line(env, strict):
    missing = env["traces"] / "nowhere"
    flag = ' strict="yes"' if strict else ""
    status, line = refusal(env, marked(f'dir="{missing}"{flag}'))
    outcome = "strict mode: libvirt will not start it" if strict else "it starts unrecorded"
    assert (status, line) == (int(strict), f"xenrr: domain guest: the trace directory {missing} "
                                           f"does not exist ({outcome})\n")
    assert spawned(env) is None


def test_a_file_is_not_a_directory(env):
    file = env["traces"] / "file"
    file.write_text("")
    assert refusal(env, marked(f'dir="{file}"')) == (
        0, f"xenrr: domain guest: the trace directory {file} is not a directory "
           "(it starts unrecorded)\n")


def reachable_by_all(path: Path) -> bool:
    """Whether every directory above path lets others through (a mktemp checkout does not)."""
    return all(p.stat().st_mode & 0o001 for p in Path(path).absolute().parents)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the hook as an unprivileged user")
@pytest.mark.skipif(not reachable_by_all(HERE / "recorder_stub.py"),
                    reason=f"the checkout ({HERE.parents[1]}) is in a directory only root may "
                           "enter, so the hook's recorder cannot run as nobody")
def test_an_unwritable_directory_is_one_line(env):
    result = run_hook(env, "start", marked(f'dir="{env["traces"]}"'),
                      user=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
    assert (result.returncode, result.stderr) == (
        0, f"xenrr: domain guest: cannot write in the trace directory {env['traces']} "
           "(it starts unrecorded)\n")
    assert spawned(env) is None


@pytest.mark.parametrize(("attributes", "message"), [
    ('', "<xenrr:record> has no dir attribute"),
    ('dri="/var/lib/xenrr"', "<xenrr:record> has an unknown attribute 'dri' (did you mean 'dir'?)"),
    ('dir="traces"', "<xenrr:record>: the trace directory 'traces' is not an absolute path "
                     "(libvirtd runs the hook from /)"),
    ('dir="/t" strict="true"', "<xenrr:record> strict='true': expected 'yes' or 'no'"),
])
def test_malformed_metadata_is_one_line_and_the_domain_starts(env, attributes, message):
    assert refusal(env, marked(attributes)) == (
        0, f"xenrr: domain guest: {message} (it starts unrecorded)\n")
    assert spawned(env) is None


def test_malformed_metadata_that_asks_for_strict_refuses_the_start(env):
    assert refusal(env, marked('strict="yes"')) == (
        1, "xenrr: domain guest: <xenrr:record> has no dir attribute "
           "(strict mode: libvirt will not start it)\n")


def test_a_domain_xml_that_does_not_parse_is_one_line(env):
    status, line = refusal(env, "<domain><name>guest</name>")
    assert status == 0 and line.startswith("xenrr: domain guest: the domain XML does not parse: ")


@pytest.mark.parametrize("strict", [False, True])
def test_a_recorder_that_cannot_start_is_one_line(env, strict):
    flag = ' strict="yes"' if strict else ""
    status, line = refusal(env, marked(f'dir="{env["traces"]}"{flag}'), STUB_MODE="fail")
    outcome = "strict mode: libvirt will not start it" if strict else "it starts unrecorded"
    assert (status, line) == (int(strict), "xenrr: domain guest: the recorder could not start: "
                                           "no xenstore device (/dev/xen/xenbus): this is not a "
                                           f"Xen dom0 ({outcome})\n")


def test_stopped_tells_a_waiting_recorder_to_give_up(env):
    run_hook(env, "start", marked(f'dir="{env["traces"]}"'))
    result = run_hook(env, "stopped", marked(f'dir="{env["traces"]}"'))
    assert (result.returncode, result.stderr) == (0, "")
    assert spawned(env)["ended"] == "SIGTERM"


def test_stopped_waits_for_a_recording_recorder_to_close_its_trace(env):
    xml = marked(f'dir="{env["traces"]}"')
    run_hook(env, "start", xml, STUB_MODE="record", STUB_SECONDS="2")
    started = time.monotonic()
    result = run_hook(env, "stopped", xml)
    assert (result.returncode, result.stderr) == (0, "")
    assert spawned(env)["ended"] == "closed"   # not signalled: it ended by itself
    assert time.monotonic() - started > 1
    assert RecorderLock(UUID, Path(env["vars"]["XENRR_RUN_DIR"])).holder() is None


def test_stopped_without_a_recorder_returns_at_once(env):
    result = run_hook(env, "stopped", marked(f'dir="{env["traces"]}"'))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_second_start_while_the_first_recorder_runs_is_refused(env):
    xml = marked(f'dir="{env["traces"]}"')
    run_hook(env, "start", xml)
    first = spawned(env)
    env["report"].unlink()
    status, line = refusal(env, xml)
    assert status == 0
    assert line == (f"xenrr: domain guest: the recorder could not start: the recorder of an "
                    f"earlier start of this domain still runs (pid {first['pid']}) "
                    "(it starts unrecorded)\n")
    os.kill(first["pid"], signal.SIGKILL)


def test_a_managed_save_image_is_not_recorded(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hook, "SAVE_DIR", tmp_path)
    (tmp_path / "guest.save").write_bytes(b"")
    xml = marked(f'dir="{tmp_path}" strict="yes"')
    assert hook.main(["guest", "start", "begin", "-"], stdin=io.StringIO(xml)) == 1
    assert capsys.readouterr().err == (
        f"xenrr: domain guest: libvirt restores it from its managed save image "
        f"{tmp_path}/guest.save, so it would not start at its first instruction "
        "(strict mode: libvirt will not start it)\n")


def test_traces_of_starts_within_one_second_get_their_own_names(tmp_path):
    first = hook.trace_path(tmp_path, "guest", now=0)
    first.with_suffix(".log").write_text("")
    second = hook.trace_path(tmp_path, "guest", now=0)
    assert second == first.with_name(first.stem + "-2.xrr")
