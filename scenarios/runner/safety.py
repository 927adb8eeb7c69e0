"""Refuse to point load at anything but this machine unless the user says so.

A load test is indistinguishable from an attack to whoever receives it, so slogate only
drives loopback targets by default: 127.0.0.0/8, ``::1`` and names that resolve *only* to
those (``localhost``). A name is resolved rather than trusted by spelling, because
``localhost.example.com`` or a hosts-file entry can point anywhere.

With several machines the rule reads: the target and every worker address is on this
machine or in the allowed list given with ``--allow-remote LIST`` (CIDR blocks, addresses,
host names; names are resolved once, here). ``--allow-remote`` without a list allows any
address, as before. The distributed master applies the same list to every worker's TCP
peer address (:func:`scenarios.loopback.address_allowed`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from foundation.errors import TargetError
from scenarios.loopback import address_allowed, is_loopback_ip

__all__ = ["ANY_ADDRESS", "allowed_networks", "check_target_allowed", "is_loopback_host"]

ANY_ADDRESS = ("0.0.0.0/0", "::/0")  # what a bare --allow-remote means

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


def allowed_networks(entries: tuple[str, ...], *, resolve: Resolver = _resolve) -> tuple[str, ...]:
    """``--allow-remote`` entries as CIDR blocks: networks and addresses as given, host names
    resolved to each of their addresses. Raises :class:`TargetError` for a name that does
    not resolve (a typo must not silently allow nothing, or everything)."""
    out: list[str] = []
    for entry in entries:
        text = entry.strip().strip("[]")
        if not text:
            continue
        try:
            out.append(str(ipaddress.ip_network(text, strict=False)))
            continue
        except ValueError:
            pass  # a host name
        try:
            addresses = resolve(text)
        except (OSError, UnicodeError) as exc:
            raise TargetError(f"--allow-remote entry {text!r} does not resolve: {exc}") from exc
        out.extend(str(ipaddress.ip_network(a.split("%", 1)[0])) for a in addresses)
    return tuple(dict.fromkeys(out))


def check_target_allowed(
    url: str, *, allow_remote: bool, allowed: tuple[str, ...] = (), resolve: Resolver = _resolve
) -> None:
    """Raise :class:`TargetError` when ``url`` is neither loopback nor allowed.

    ``allowed`` are CIDR blocks from :func:`allowed_networks`; every address the target's
    name stands for must be loopback or inside one of them.
    """
    if allow_remote:
        return
    host = urlsplit(url).hostname
    if host is None:
        raise TargetError(f"target {url!r} has no host name; give a URL like http://127.0.0.1:8000")
    if allowed and _all_allowed(host, allowed, resolve):
        return
    if not is_loopback_host(host, resolve=resolve):
        raise TargetError(
            f"refusing to send load to {host}, which is not this machine (loopback); "
            "pass --allow-remote (or --allow-remote with a list that holds it) if you own "
            "that target and mean it"
        )


def _all_allowed(host: str, allowed: tuple[str, ...], resolve: Resolver) -> bool:
    host = host.strip("[]")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host)
        except (OSError, UnicodeError):
            return False
    return bool(addresses) and all(address_allowed(a, allowed) for a in addresses)
