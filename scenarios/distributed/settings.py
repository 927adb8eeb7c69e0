"""How a distributed run is set up: the master's config (a trust boundary: JSON on a pipe)
and the facts a host tells about itself. Pure; no Locust."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_PORT", "MasterConfig", "harness_versions", "host_facts"]

DEFAULT_PORT = 5557  # Locust's own default master port


class MasterConfig(BaseModel):
    """What the runner hands the master process on its stdin (one JSON line).

    ``allowed_networks`` are CIDR blocks besides loopback a worker may connect from
    (``["0.0.0.0/0", "::/0"]`` when ``--allow-remote`` was given without a list).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_dir: Path
    bind_host: str = "*"
    bind_port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    expect_workers: int = Field(ge=1, le=1024)
    join_timeout_s: float = Field(default=120.0, gt=0)
    ready_timeout_s: float = Field(default=120.0, gt=0)
    stop_timeout_s: float = Field(default=30.0, gt=0)
    clock_interval_s: float = Field(default=30.0, gt=0)  # re-measure clock offsets this often
    allowed_networks: tuple[str, ...] = ()
    http_plan: str | None = None
    swarm_plan: str | None = None


def harness_versions() -> dict[str, str]:
    """Versions that must agree across hosts for their samples to mean the same thing."""
    out = {"python": sys.version.split()[0]}
    for name in ("slogate", "locust", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def host_facts() -> dict[str, Any]:
    """What a worker tells the master about itself in its hello."""
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "pid": os.getpid(),
        "versions": harness_versions(),
    }
