"""A PostgreSQL server slogate owns for one run: its own data directory and free port.

Started with the Debian server binaries (``/usr/lib/postgresql/<major>/bin``: ``initdb``,
``pg_ctl``), so a ``database: outage`` fault can stop it the way a crash would
(``pg_ctl stop -m immediate``: no shutdown checkpoint, clients see their connections drop)
and start it again, without touching the machine's own PostgreSQL.

``initdb`` refuses to run as root; when slogate runs as root, the server binaries run as
the ``postgres`` OS user through ``runuser`` and the data directory is handed to that user.
Authentication is ``trust`` on 127.0.0.1 only (the server listens on nothing else, and the
Unix socket lives in the private data directory).

Example::

    with OwnedPostgres.create(Path(tmp)) as pg:
        url = pg.url          # postgresql+asyncpg://postgres@127.0.0.1:<port>/slogate
        pg.stop_immediate()   # the outage
        pg.start()            # the recovery
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["OwnedPostgres", "OwnedPostgresError", "find_server_bin"]

_DATABASE = "slogate"
_OS_USER = "postgres"


class OwnedPostgresError(Exception):
    """The owned PostgreSQL could not be created, started or stopped; the message says why."""


def find_server_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding ``initdb`` and ``pg_ctl``."""
    root = Path("/usr/lib/postgresql")
    majors = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not majors:
        raise OwnedPostgresError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
            "(install the Debian package postgresql)"
        )
    return majors[-1]


@dataclass
class OwnedPostgres:
    """One owned server. ``create`` runs initdb and starts it; ``close`` stops it for good."""

    root: Path
    port: int
    bin_dir: Path
    run_as: str | None  # OS user the server binaries run as (None: this user)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy asyncpg URL of the run's database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{_DATABASE}"

    @classmethod
    def create(cls, root: Path, *, port: int | None = None) -> OwnedPostgres:
        """initdb in ``root/data``, start on a free 127.0.0.1 port, create the database."""
        from target_service.serve import free_port

        root.mkdir(parents=True, exist_ok=True)  # its parents must be traversable by run_as
        run_as = _OS_USER if os.geteuid() == 0 else None
        pg = cls(root, port or free_port(), find_server_bin(), run_as)
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        pg._run(
            "initdb", "-D", str(pg.data_dir), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )
        pg.start()
        try:
            pg._run(
                "createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", _DATABASE
            )
        except BaseException:
            pg.close()
            raise
        return pg

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the server and wait until it accepts connections."""
        # fsync off: a commit still reaches the kernel before it is acknowledged, so a crash
        # of PostgreSQL (the outage) loses nothing; only a crash of the machine could.
        # synchronous_commit stays on: off would drop acknowledged commits in an outage.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path),
            "-w", "-t", str(int(timeout_s)), "start",
        )

    def stop_immediate(self) -> None:
        """The outage: immediate shutdown (like a crash: no checkpoint, connections cut)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def is_running(self) -> bool:
        status = self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False)
        return status.returncode == 0

    def server_pid(self) -> int | None:
        """The postmaster's pid while running (for tests that check nothing is left)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Stop the server (fast, then immediate) and delete the data directory."""
        if self.data_dir.exists() and self.is_running():
            done = self._run(
                "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "10", "stop", check=False
            )
            if done.returncode != 0:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OwnedPostgres:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / tool), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                cwd=self.root,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OwnedPostgresError(f"{tool} could not run: {exc}") from exc
        if check and done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise OwnedPostgresError(
                f"{tool} failed after {time.monotonic() - started:.1f} s "
                f"(exit {done.returncode}): {' '.join(tail)}"
            )
        return done
