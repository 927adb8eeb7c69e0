"""Start a real Prometheus server (Debian package ``prometheus``) for one run, and stop it.

The config is generated: one job ``target`` scraping the target's ``/metrics`` every second,
TSDB under the run directory (``RUN_DIR/prometheus/``), web API on a free loopback port.
Only loopback targets are accepted -- this never scrapes anything else.

Example::

    with LocalPrometheus(run_dir, target_url="http://127.0.0.1:8000") as prom:
        prom.wait_until_scraped()
        ...  # run the load
        record = PrometheusSource(prom.url, scrape_interval_s=prom.scrape_interval_s).measure(
            config, window)
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from foundation.errors import SourceError, UsageError

__all__ = ["LocalPrometheus", "find_prometheus"]


def find_prometheus() -> str:
    """Path of the ``prometheus`` binary, or a :class:`SourceError` that says how to get it."""
    path = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )
    if path is None:
        raise SourceError(
            "the prometheus binary is not installed; install it with "
            "'apt-get install -y prometheus', or pass --prometheus URL of a running server"
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loopback(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok or parts.port is None:
        raise UsageError(
            f"a local Prometheus only scrapes loopback targets with an explicit port; got {url}"
        )
    return f"{host}:{parts.port}" if ":" not in host else f"[{host}]:{parts.port}"


class LocalPrometheus:
    """A Prometheus child process scraping one target every second."""

    def __init__(
        self,
        run_dir: Path,
        target_url: str,
        *,
        metrics_path: str = "/metrics",
        startup_timeout_s: float = 30.0,
        binary: str | None = None,
        rule_files: tuple[Path, ...] = (),
    ) -> None:
        self.dir = Path(run_dir) / "prometheus"
        self.target = _loopback(target_url)
        self.metrics_path = metrics_path
        self.startup_timeout_s = startup_timeout_s
        self.binary = binary or find_prometheus()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.rule_files = tuple(Path(f).resolve() for f in rule_files)

    scrape_interval_s = 1.0

    def config_text(self) -> str:
        """Scrape and evaluate every second; the rule files (SLO burn-rate alerts, see
        :mod:`slo.alerts`) are loaded when given."""
        rules = "".join(f"  - '{f}'\n" for f in self.rule_files)
        return (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            + (f"rule_files:\n{rules}" if rules else "")
            + "scrape_configs:\n  - job_name: target\n"
            f"    metrics_path: {self.metrics_path}\n"
            f"    static_configs:\n      - targets: ['{self.target}']\n"
        )

    def start(self) -> LocalPrometheus:
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "prometheus.yml"
        config.write_text(self.config_text(), encoding="utf-8")
        log = (self.dir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=30d"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SourceError(
                    f"prometheus exited with code {self.process.returncode} at start; "
                    f"see {self.dir / 'prometheus.log'}"
                )
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SourceError(f"prometheus did not become ready in {self.startup_timeout_s:g} s; "
                          f"see {self.dir / 'prometheus.log'}")

    def wait_until_scraped(self, timeout_s: float = 30.0) -> None:
        """Return once Prometheus holds two scrapes of the target, so the run's start instant
        has a sample from before it (see :mod:`slo.sources.prometheus`)."""
        from slo.sources.prometheus import PrometheusSource

        source = PrometheusSource(self.url, scrape_interval_s=self.scrape_interval_s,
                                  scrape_wait_s=timeout_s)
        for _ in range(2):
            if source.wait_for_scrape_after(time.time() + self.scrape_interval_s):
                raise SourceError(
                    f"prometheus did not scrape {self.target} within {timeout_s:g} s; "
                    f"see {self.dir / 'prometheus.log'}"
                )

    def stop(self) -> None:
        """Terminate (then kill after 10 s); idempotent."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> LocalPrometheus:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
