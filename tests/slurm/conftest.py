"""The real single-node Slurm cluster (``scripts/slurm-dev-cluster start``).

Every test here needs it: when it does not answer they skip with the command that starts it, and
fail instead when AIFACTORY_REQUIRE_SLURM=1 (as in CI, which starts the cluster itself)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

START = "scripts/slurm-dev-cluster start"
TEST_ACCOUNT = os.environ.get("AIFACTORY_SLURM_TEST_ACCOUNT", "aifactory-test")


def slurm_unavailable() -> str | None:
    """None when the controller answers and a node is up, else the reason."""
    if shutil.which("scontrol") is None or shutil.which("sinfo") is None:
        return "Slurm client commands are not installed"
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        if ping.returncode != 0 or "is UP" not in ping.stdout:
            said = (ping.stdout + ping.stderr).strip().splitlines()
            return (
                f"the Slurm controller does not answer ({said[0] if said else f'scontrol ping: rc={ping.returncode}'})"
            )
        states = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired as exc:
        return f"Slurm did not answer within {exc.timeout:.0f}s ({' '.join(exc.cmd)})"
    up = {"idle", "mixed", "allocated", "completing"}
    # a trailing "*" means "not responding": that node is not up
    if not any(s.strip().rstrip("~#!%$@^-") in up for s in states.stdout.split()):
        return f"no Slurm node is up (sinfo: {states.stdout.strip() or states.stderr.strip()})"
    return None


@pytest.fixture(scope="session", autouse=True)
def slurm_cluster() -> None:
    reason = slurm_unavailable()
    if reason is None:
        return
    reason = f"{reason}; start the local cluster with `{START}`"
    if os.environ.get("AIFACTORY_REQUIRE_SLURM") == "1":
        pytest.fail(reason + " (AIFACTORY_REQUIRE_SLURM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def test_account() -> str:
    return TEST_ACCOUNT
