"""Starting the service: ``python -m target_service`` and ``slogate target`` refuse bad options
with exit code 2 and one sentence (no traceback); the embedded launcher starts a real server
that answers its health checks and stops without leaving a process behind.

Each case starts a Python process (1-2 CPU-seconds of imports), so only the cases the
issue names run by default; the other refusals are marked ``slow``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from target_service.embedded import EmbeddedTargetOptions, start_embedded_target
from target_service.serve import StartupError

PYTHON_M = [sys.executable, "-m", "target_service"]
SLOGATE = [sys.executable, "-c", "import sys; from slogate.cli import main; sys.exit(main())", "target"]


@pytest.mark.parametrize(
    ("command", "flags", "message"),
    [
        pytest.param(
            PYTHON_M, ["--workers", "2"], "--workers 2 needs --redis-url", id="workers-without-redis"
        ),
        pytest.param(
            SLOGATE, ["--workers", "2"], "--workers 2 needs --redis-url", id="slogate-target-workers"
        ),
        pytest.param(
            PYTHON_M,
            ["--workers", "0"],
            "--workers must be at least 1",
            id="zero-workers",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            PYTHON_M,
            ["--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/none"],
            "database postgresql+asyncpg://postgres@127.0.0.1:1/none is not usable",
            id="database-unreachable",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_bad_options_exit_2_with_one_sentence(
    tmp_path: Path, command: list[str], flags: list[str], message: str
) -> None:
    done = subprocess.run(
        [*command, "--port", "0", *flags], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    prefix = "slogate target: " if command is SLOGATE else "target_service: "
    assert lines[0].startswith(prefix), lines[0]
    assert not list(tmp_path.iterdir()), "a refused start left files behind"


def test_embedded_target_answers_and_stops_cleanly(tmp_path: Path) -> None:
    with start_embedded_target(EmbeddedTargetOptions(data_dir=tmp_path)) as target:
        assert target.url.startswith("http://127.0.0.1:")
        pids = target.pids()
        assert pids and all(psutil.pid_exists(pid) for pid in pids)
        assert httpx.get(target.url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(target.url + "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
        admin = {"Authorization": f"Bearer {target.admin_token}"}
        created = httpx.post(target.url + "/v1/tenants", json={"name": "n", "tier": "team"}, headers=admin)
        assert created.status_code == 201
    assert target.process.returncode is not None
    alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, f"processes left running: {alive}"
    assert "Traceback" not in target.log_path.read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(target.url + "/healthz", timeout=2)


@pytest.mark.slow  # a child process start (a few seconds on a busy 2-core machine)
def test_embedded_target_that_cannot_start_says_why(tmp_path: Path) -> None:
    options = EmbeddedTargetOptions(
        data_dir=tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/x"
    )
    with pytest.raises(StartupError, match=r"exited with code 2: .*is not usable"):
        start_embedded_target(options)
