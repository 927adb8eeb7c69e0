"""Several "hosts" on this machine: network namespaces joined by veth pairs to a bridge.

Every address lives in a private subnet that exists only inside namespaces this module
creates (the bridge too sits in a namespace of its own): no address, route or NAT is added
to the machine's own network, and nothing can leave it. Names start with ``sgt-`` plus the
test process id, so parallel runs never collide; :meth:`NetLab.close` kills every process
left in the namespaces (all started by the test) and deletes them.

Example::

    with NetLab.create(["target", "master", "w1"]) as lab:
        lab.address("target")            # "10.213.7.1"
        proc = lab.popen("w1", ["python", "-c", "..."])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

SUBNET = "10.213.7"  # /24, only inside the lab's namespaces


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "no 'ip' command (Debian package iproute2)"
    probe = f"sgt-{os.getpid()}-probe"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        return f"cannot create a network namespace: {detail}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=20)
    return None


class NetLab:
    """Hosts ``names`` at ``10.213.7.1``, ``.2``, ... on one bridge; see the module doc."""

    def __init__(self, names: Sequence[str]) -> None:
        self.prefix = f"sgt-{os.getpid()}"
        self.names = list(names)
        self.created: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    @classmethod
    def create(cls, names: Sequence[str]) -> NetLab:
        lab = cls(names)
        try:
            lab._build()
        except BaseException:
            lab.close()
            raise
        return lab

    def ns(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def address(self, name: str) -> str:
        return f"{SUBNET}.{self.names.index(name) + 1}"

    def _build(self) -> None:
        bridge = self.ns("br")
        _ip("netns", "add", bridge)
        self.created.append(bridge)
        _ip("-n", bridge, "link", "add", "br0", "type", "bridge")
        _ip("-n", bridge, "link", "set", "br0", "up")
        for i, name in enumerate(self.names):
            ns = self.ns(name)
            _ip("netns", "add", ns)
            self.created.append(ns)
            _ip("link", "add", "eth0", "netns", ns, "type", "veth",
                "peer", "name", f"p{i}", "netns", bridge)
            _ip("-n", bridge, "link", "set", f"p{i}", "master", "br0")
            _ip("-n", bridge, "link", "set", f"p{i}", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(name)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def popen(
        self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside host ``name``'s namespace (stdout+stderr to ``log``)."""
        out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), *argv],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=cwd, start_new_session=True,
            )
        finally:
            if not isinstance(out, int):
                out.close()  # the child holds its own descriptor
        self.procs.append(proc)
        return proc

    def run(self, name: str, argv: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(name), *argv], capture_output=True, text=True, timeout=timeout
        )

    def pids(self, name: str) -> list[int]:
        done = subprocess.run(
            ["ip", "netns", "pids", self.ns(name)], capture_output=True, text=True, timeout=20
        )
        return [int(x) for x in done.stdout.split()]

    def kill_host(self, name: str) -> list[int]:
        """SIGKILL every process in host ``name`` (the whole machine dies at once)."""
        pids = self.pids(name)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def wait_http(self, name: str, url: str, timeout: float = 60.0) -> None:
        """Until ``url`` answers from inside host ``name`` (the target has started)."""
        code = (
            "import sys,urllib.request\n"
            f"urllib.request.urlopen({url!r}, timeout=2).read()\n"
        )
        deadline = time.monotonic() + timeout
        while True:
            done = self.run(name, ["python3", "-c", code], timeout=10)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{url} did not answer from {name} within {timeout:g} s: {done.stderr[-300:]}"
                )
            time.sleep(0.5)

    def close(self) -> None:
        for name in reversed(self.names):
            if self.ns(name) in self.created:
                self.kill_host(name)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self.created.clear()

    def __enter__(self) -> NetLab:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
