"""Slurm outages inside a test: the dev cluster's controller stopped and started again
(``scripts/slurm-dev-cluster`` starts the daemons; its ``start`` brings back only what is missing), and the lock
that keeps every other test off the cluster meanwhile.

Every test marked ``slurm`` holds the cluster lock shared (an autouse fixture in ``tests/conftest.py``); a test
that uses the ``slurmctld_outage`` fixture holds it alone, so no other xdist worker (nor another pytest run on
this machine) sees the controller down. Whatever the test did, the controller runs again when it ends."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLURM_DIR = Path(os.environ.get("AIFACTORY_SLURM_DIR", "/var/lib/aifactory-slurm"))
LOCK_FILE = Path(tempfile.gettempdir()) / "aifactory-slurm-cluster.lock"
OUTAGE_FIXTURE = "slurmctld_outage"  # the fixture name that makes a test hold the cluster alone


@contextmanager
def cluster_lock(*, exclusive: bool) -> Iterator[None]:
    """The cluster for this test: shared with the other tests, or alone (blocks until it is)."""
    with LOCK_FILE.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _answers() -> bool:
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return False
    return ping.returncode == 0 and "is UP" in ping.stdout


class Controller:
    """slurmctld of the dev cluster."""

    pid_file = SLURM_DIR / "run" / "slurmctld.pid"

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (it saves its state: queued and running jobs survive), then wait until it is gone."""
        pid = int(self.pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while Path(f"/proc/{pid}").exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"slurmctld (pid {pid}) did not stop within {timeout:.0f}s")
            time.sleep(0.1)
        assert not _answers(), "a controller still answers"

    def start(self) -> None:
        """The dev cluster's own start (idempotent): the controller, and the node up again."""
        if _answers():
            return
        subprocess.run([str(ROOT / "scripts" / "slurm-dev-cluster"), "start"], check=True, timeout=300)
        assert _answers(), "slurmctld did not come back"


@contextmanager
def outage() -> Iterator[Controller]:
    """A controller the test may stop and start; running again afterwards, whatever happened."""
    controller = Controller()
    try:
        yield controller
    finally:
        controller.start()
