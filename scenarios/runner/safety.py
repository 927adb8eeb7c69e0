"""Refuse to point load at anything but this machine unless the user says so.

A load test is indistinguishable from an attack to whoever receives it, so slogate only
drives loopback targets by default: 127.0.0.0/8, ``::1`` and names that resolve *only* to
those (``localhost``). A name is resolved rather than trusted by spelling, because
``localhost.example.com`` or a hosts-file entry can point anywhere.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from scenarios.loopback import is_loopback_ip
from slogate.errors import TargetError

__all__ = ["check_target_allowed", "is_loopback_host"]

Resolver = Callable[[str], list[str]]


def _resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_loopback_host(host: str, *, resolve: Resolver = _resolve) -> bool:
    """True when every address ``host`` stands for is a loopback address.

    ``resolve`` is injectable so tests can check hostnames without a DNS server.
    """
    host = host.strip("[]")
    try:
        return is_loopback_ip(host)
    except ValueError:
        pass  # not a literal address: resolve the name
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(is_loopback_ip(a) for a in addresses)


def check_target_allowed(url: str, *, allow_remote: bool, resolve: Resolver = _resolve) -> None:
    """Raise :class:`TargetError` when ``url`` is not loopback and remote is not allowed."""
    if allow_remote:
        return
    host = urlsplit(url).hostname
    if host is None:
        raise TargetError(f"target {url!r} has no host name; give a URL like http://127.0.0.1:8000")
    if not is_loopback_host(host, resolve=resolve):
        raise TargetError(
            f"refusing to send load to {host}, which is not this machine (loopback); "
            "pass --allow-remote if you own that target and mean it"
        )
