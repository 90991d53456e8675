"""A bot process started by a test or by `make bench` does not outlive the process that
started it: killed mid-run (SIGKILL here; SIGTERM skips `finally` blocks just the same), the
runner takes its children with it instead of leaving them polling a stand-in that is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.support.botprocess import ROOT

STARTER = """
import subprocess, sys, time
from tests.support.botprocess import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         preexec_fn=die_with_parent())
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signals are Linux's")
def test_a_child_dies_with_the_process_that_started_it():
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    child = int(starter.stdout.readline())
    try:
        assert _alive(child)
        starter.kill()
        starter.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, 9)
        starter.stdout.close()
