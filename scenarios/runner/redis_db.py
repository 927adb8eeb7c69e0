"""A Redis database number of the run's own for the embedded target (``embedded.redis``).

Database 0 is what every tool on a machine uses by default, and several runs or test
sessions may share one Redis server: a run that wrote its quotas, session leases and fault
flags into db 0 (or into another run's db) would read theirs too, and judge the wrong thing.
So when ``embedded.redis`` names a server without a database number
(``redis://127.0.0.1:6379``), the run *claims* one:

- candidates are 1 .. ``databases`` - 1 (``CONFIG GET databases``; 16 if CONFIG is refused);
- a database is claimed with ``SET`` :data:`CLAIM_KEY` ``NX EX ttl`` (the value names the
  run), and kept only if it holds nothing but the service's own ``slogate:*`` keys (what a
  crashed run may have left) -- another program's data, or a test session's claim
  (``slogate-test:claim``), makes it skip to the next number;
- it is flushed at the start (``FLUSHDB`` and the claim re-set in one ``MULTI``, so nobody
  can slip in between) and at the end (only while the claim is still the run's: ``WATCH``),
  which also releases it; the TTL frees the number if the run dies without its clean-up.

A URL that names a number (``redis://127.0.0.1:6379/5``) is used as it is, never flushed: the
user chose it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import RedisError, ResponseError, WatchError

from foundation.errors import TargetError

__all__ = ["CLAIM_KEY", "SERVICE_KEYS", "claimed_redis", "names_database"]

CLAIM_KEY: Final = "slogate-run:claim"
"""Present in a database a run owns; its value names the run (outside ``slogate:*``)."""
SERVICE_KEYS: Final = "slogate:"
"""Prefix of every key the reference target writes (target_service/limits, faults, events)."""
_DEFAULT_DATABASES: Final = 16


def names_database(url: str) -> bool:
    """True when the URL picks a database (``/N`` path or ``?db=N``), as redis-py reads it."""
    parts = urlsplit(url)
    return parts.path.strip("/") != "" or "db=" in parts.query


@contextmanager
def claimed_redis(url: str, owner: str, ttl_s: float) -> Iterator[str]:
    """Yield the URL the target should use; claim, flush and release a database if needed.

    ``owner``: who claims (the run id, for whoever finds the key); ``ttl_s``: how long the
    claim outlives a run that died without releasing it. :class:`TargetError` when Redis does
    not answer or every candidate is taken.
    """
    if names_database(url):
        yield url
        return
    try:
        client, number = _claim(url, owner, int(ttl_s) + 1)
    except RedisError as exc:
        raise TargetError(f"Redis at {url} cannot give the run a database: {exc}") from exc
    try:
        yield _with_database(url, number)
    finally:
        with contextlib.suppress(RedisError):
            _release(client, owner)
        client.close()


def _claim(url: str, owner: str, ttl: int) -> tuple[redis.Redis, int]:
    with redis.Redis.from_url(url, socket_connect_timeout=3) as probe:
        try:
            databases = int(probe.config_get("databases").get("databases", _DEFAULT_DATABASES))
        except ResponseError:  # CONFIG renamed or disabled on a managed server
            databases = _DEFAULT_DATABASES
    for number in range(1, databases):  # never 0: the machine's shared default
        client = redis.Redis.from_url(url, db=number, socket_connect_timeout=3)
        if client.set(CLAIM_KEY, owner, nx=True, ex=ttl):
            if _only_ours(client):
                pipe = client.pipeline(transaction=True)
                pipe.flushdb()
                pipe.set(CLAIM_KEY, owner, ex=ttl)
                pipe.execute()
                return client, number
            client.delete(CLAIM_KEY)  # someone else's data: leave it alone
        client.close()
    raise TargetError(
        f"every Redis database 1..{databases - 1} at {url} is claimed or holds other data; "
        "name one in embedded.redis (e.g. redis://127.0.0.1:6379/5) or free one"
    )


def _only_ours(client: redis.Redis) -> bool:
    """Nothing in the database but the service's keys and the claim (stops at the first other)."""
    for key in client.scan_iter(count=1000):
        name = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
        if name != CLAIM_KEY and not name.startswith(SERVICE_KEYS):
            return False
    return True


def _release(client: redis.Redis, owner: str) -> None:
    """Flush the database if the claim is still ours (the flush removes the claim too)."""
    with client.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(CLAIM_KEY)
            current = pipe.get(CLAIM_KEY)
            if not isinstance(current, bytes) or current.decode(errors="replace") != owner:
                return  # expired and taken by someone else: theirs now
            pipe.multi()
            pipe.flushdb()
            pipe.execute()
        except WatchError:
            return  # changed under us: not ours to flush any more


def _with_database(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))
