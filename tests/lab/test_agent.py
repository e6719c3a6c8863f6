"""The dom0 agent's side of the lab share protocol, run here in a thread."""

import json
import sys
import threading
import time

import pytest

from xenrr.lab.agent import Share, serve, write_atomically


@pytest.fixture
def agent(tmp_path):
    share = Share(tmp_path)
    share.create()
    thread = threading.Thread(target=serve, args=(share,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not share.ready.exists():
        assert time.monotonic() < deadline, "the agent never became ready"
        time.sleep(0.01)
    yield share
    write_atomically(share.request(999999), json.dumps({"op": "shutdown"}))
    thread.join(10)
    assert not thread.is_alive()


def request(share, n, **fields) -> dict:
    write_atomically(share.request(n), json.dumps(fields))
    deadline = time.monotonic() + 20
    while not share.status(n).exists():
        assert time.monotonic() < deadline, "the agent did not answer"
        time.sleep(0.02)
    return json.loads(share.status(n).read_text())


def test_a_command_leaves_its_output_and_status(agent, tmp_path):
    status = request(agent, 1, argv=[sys.executable, "-c",
                                     "import os,sys; print(os.getcwd(), os.environ['X']); "
                                     "print('e', file=sys.stderr); sys.exit(5)"],
                     cwd=str(tmp_path), env={"X": "from-host"}, timeout=20)
    assert status["returncode"] == 5 and not status["timed_out"]
    assert agent.out(1).read_text() == f"{tmp_path} from-host\n"
    assert agent.err(1).read_text() == "e\n"


def test_requests_run_in_order(agent):
    for n in (1, 2):
        write_atomically(agent.request(n), json.dumps(
            {"argv": ["sh", "-c", f"sleep 0.{3 - n}; date +%s%N"], "timeout": 10}))
    request(agent, 3, argv=["true"], timeout=10)
    assert int(agent.out(1).read_text()) < int(agent.out(2).read_text())


def test_a_command_past_its_timeout_is_killed(agent):
    status = request(agent, 1, argv=["sleep", "30"], timeout=0.5)
    assert status["timed_out"] and status["elapsed"] < 10


def test_a_command_that_cannot_start_is_127(agent):
    status = request(agent, 1, argv=["/nonexistent/program"], timeout=5)
    assert status["returncode"] == 127
    assert "cannot run /nonexistent/program" in agent.err(1).read_text()
