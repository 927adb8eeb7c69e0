"""Whether a host is this machine, by its spelling alone: the one check every load path shares.

The runner (``scenarios/runner/safety.py``) goes further and resolves names, so a hosts-file
name that points only at loopback is allowed and ``localhost.example.com`` is not. The load
engines check again, without touching DNS, because they are also started on their own
(benchmarks, tests, a user's script): for them only ``localhost`` and loopback literals
count. Both use :func:`is_loopback_ip`, so an address means the same thing everywhere.
"""

from __future__ import annotations

import ipaddress

__all__ = ["address_allowed", "is_loopback_ip", "is_loopback_literal"]


def is_loopback_ip(text: str) -> bool:
    """True for a loopback IP literal (127.0.0.0/8, ``::1``, IPv4-mapped 127.x); raises
    ``ValueError`` when ``text`` is not an IP address at all."""
    addr = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def is_loopback_literal(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (brackets allowed), without resolving."""
    host = host.strip("[]")
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return is_loopback_ip(host)
    except ValueError:
        return False


def address_allowed(address: str, networks: tuple[str, ...] | list[str]) -> bool:
    """True when ``address`` (an IP literal) is loopback or inside one of ``networks`` (CIDR
    strings such as ``10.213.0.0/24``); False for anything that is not an IP address.

    The distributed master asks this of every worker's TCP peer address (no DNS: names in
    ``--allow-remote`` are resolved once by the runner, before the master starts).
    """
    try:
        if is_loopback_ip(address):
            return True
        addr = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        if addr.version == net.version and addr in net:
            return True
    return False
