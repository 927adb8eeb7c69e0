"""Start and stop the service as a child process on a free loopback port.

Used by the test-suite and by ``slogate run`` for ``target: embedded``: a real server in its
own process (so its CPU and memory can be measured apart from the load generator's),
reachable only from this machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import psutil

from target_service.serve import StartupError, free_port
from target_service.startup_phases import WorkerStartup
from target_service.supervisor import read_startups, read_state

__all__ = ["EmbeddedTarget", "EmbeddedTargetOptions", "start_embedded_target"]


@dataclass(frozen=True, slots=True)
class EmbeddedTargetOptions:
    data_dir: Path
    workers: int = 1
    database_url: str | None = None  # default: SQLite in data_dir
    redis_url: str | None = None
    faults: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra SLOGATE_* settings
    startup_timeout_s: float = 30.0
    host: str = "127.0.0.1"


class EmbeddedTarget:
    """A running service. Use as a context manager or call :meth:`stop`.

    Example::

        with start_embedded_target(EmbeddedTargetOptions(data_dir=tmp)) as target:
            httpx.get(target.url + "/healthz")
    """

    def __init__(self, process: subprocess.Popen[bytes], url: str, admin_token: str, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.ws_url = "ws" + url[len("http") :]
        self.admin_token = admin_token
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """The launcher and every worker process (for CPU and memory sampling)."""
        try:
            parent = psutil.Process(self.process.pid)
            return [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    @property
    def state_file(self) -> Path:
        """The supervisor's worker state (``supervisor.py``), next to the log."""
        return self.log_path.with_name("supervisor.json")

    def worker_pids(self) -> list[int | None]:
        """Worker pid per slot (None: dead, waiting for its replacement); [] before start."""
        state = read_state(self.state_file)
        workers = state.get("workers", []) if state is not None else []
        return [w.get("pid") for w in workers] if isinstance(workers, list) else []

    def startups(self) -> list[WorkerStartup]:
        """Every worker's start-up phases the supervisor still keeps, oldest first."""
        return read_startups(self.state_file)

    def whole(self) -> bool:
        """Every worker slot is served by a live process that finished start-up."""
        state = read_state(self.state_file)
        workers = state.get("workers") if state is not None else None
        if not isinstance(workers, list) or not workers:
            return False
        return all(w.get("ready") and _alive(w.get("pid")) for w in workers)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGINT (graceful: runs in flight are failed with a reason), then SIGKILL."""
        if self.process.poll() is not None:
            return
        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        # e.g. multiprocessing's resource tracker, which the supervisor's workers need: it
        # is gone only once reaped, so wait for it rather than return while it still exists
        psutil.wait_procs(children, timeout=5)

    def __enter__(self) -> EmbeddedTarget:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _alive(pid: object) -> bool:
    """Running, not a zombie: a killed worker stays a zombie until the supervisor reaps it."""
    if not isinstance(pid, int):
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_embedded_target(options: EmbeddedTargetOptions) -> EmbeddedTarget:
    """Start the service and return once ``/readyz`` answers 200 (or raise StartupError)."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(options.host)
    admin_token = secrets.token_urlsafe(24)
    database_url = options.database_url or f"sqlite+aiosqlite:///{options.data_dir / 'target.db'}"
    command = [
        sys.executable,
        "-m",
        "target_service",
        "--host",
        options.host,
        "--port",
        str(port),
        "--workers",
        str(options.workers),
        "--database-url",
        database_url,
        # "=" form: a token_urlsafe() token starts with "-" one time in 64, and argparse
        # would take it for an option
        f"--admin-token={admin_token}",
        "--state-file",
        str(options.data_dir / "supervisor.json"),
    ]
    if options.redis_url:
        command += ["--redis-url", options.redis_url]
    if options.faults:
        command += ["--faults", options.faults]
    env = {**os.environ, **options.env}
    log_path = options.data_dir / "target.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    host = f"[{options.host}]" if ":" in options.host else options.host
    target = EmbeddedTarget(process, f"http://{host}:{port}", admin_token, log_path)
    try:
        _wait_ready(target, options.startup_timeout_s)
    except BaseException:
        target.stop()
        raise
    return target


def _wait_ready(target: EmbeddedTarget, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if target.process.poll() is not None:
                tail = target.log_path.read_text(errors="replace")[-800:]
                raise StartupError(
                    f"the reference target exited with code {target.process.returncode}: {tail}"
                )
            try:
                response = client.get(target.url + "/readyz")
                if response.status_code == 200 and target.whole():
                    return  # every worker has started, not just the one that answered
                last = f"/readyz answered {response.status_code}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            time.sleep(0.1)  # polling a child process's start-up; there is no event to wait on
    raise StartupError(f"the reference target did not become ready in {timeout_s:g}s ({last})")
