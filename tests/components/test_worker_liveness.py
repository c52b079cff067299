"""Worker liveness: run as the kubelet would, against real processes and files.

The rendered exec commands run here with this machine's python3; the process check
is pointed at a child process (instead of a pod's PID 1) that is stopped, turned into
a zombie or left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from components.backend.spec import LivenessSpec

CELERY_PING = ["sh", "-c", "celery -A app.celery inspect ping -d celery@$HOSTNAME"]


def run(command: list[str]) -> int:
    return subprocess.run(command, capture_output=True, timeout=10).returncode


def check_of(pid: int) -> list[str]:
    command = LivenessSpec().exec_command
    return [*command[:-1], command[-1].replace("/proc/1/stat", f"/proc/{pid}/stat")]


def test_the_process_check_passes_while_the_process_runs_or_sleeps():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert run(check_of(child.pid)) == 0
        assert run(LivenessSpec().exec_command) == 0  # this machine's PID 1
    finally:
        child.kill()
        child.wait()


def test_the_process_check_fails_for_a_stopped_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.kill(child.pid, signal.SIGSTOP)
        time.sleep(0.2)
        assert run(check_of(child.pid)) == 1
    finally:
        child.kill()
        child.wait()


def test_the_process_check_fails_for_a_zombie():
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while open(f"/proc/{child.pid}/stat").read().rpartition(")")[2].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)  # exited, not yet reaped: a zombie
    try:
        assert run(check_of(child.pid)) == 1
    finally:
        child.wait()


def test_the_heartbeat_check_follows_the_file_age(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    command = LivenessSpec(heartbeat_file=str(heartbeat), max_age_seconds=60).exec_command
    assert run(command) != 0  # never touched: not alive yet
    heartbeat.touch()
    assert run(command) == 0
    stale = time.time() - 120
    os.utime(heartbeat, (stale, stale))
    assert run(command) == 1


def test_a_broker_round_trip_is_refused_as_liveness():
    with pytest.raises(ValidationError, match="asks the broker: when the broker restarts every worker"):
        LivenessSpec.model_validate({"command": CELERY_PING})


def test_heartbeat_and_command_are_exclusive():
    with pytest.raises(ValidationError, match="give `heartbeatFile` or `command`, not both"):
        LivenessSpec.model_validate({"command": ["true"], "heartbeatFile": "/tmp/hb"})
