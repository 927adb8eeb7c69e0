"""A run's own Redis database: claimed (never 0), flushed at start and end, others' data left alone.

Real Redis on 127.0.0.1:6379; other sessions may hold databases at the same time, so the
tests assert on the numbers they got, never on which number that is.
"""

from __future__ import annotations

import uuid

import pytest
import redis

from scenarios.runner.redis_db import CLAIM_KEY, claimed_redis, names_database
from tests.target_service._pg_redis_fixtures import redis_down_reason

pytestmark = pytest.mark.redis
SERVER = "redis://127.0.0.1:6379"


@pytest.fixture(autouse=True)
def _redis_up() -> None:
    reason = redis_down_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        pytest.param("redis://127.0.0.1:6379", False, id="server_only"),
        pytest.param("redis://127.0.0.1:6379/", False, id="trailing_slash"),
        pytest.param("redis://127.0.0.1:6379/0", True, id="db_0_named"),
        pytest.param("redis://127.0.0.1:6379/5", True, id="db_5"),
        pytest.param("redis://127.0.0.1:6379?db=3", True, id="query_db"),
    ],
)
def test_names_database(url: str, named: bool) -> None:
    assert names_database(url) is named


def _db(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def test_a_run_gets_a_database_of_its_own_flushed_at_start_and_end() -> None:
    owner = f"test-{uuid.uuid4().hex[:8]}"
    with claimed_redis(SERVER, owner, 60) as url:
        number = _db(url)
        assert number != 0
        with redis.Redis.from_url(url) as client:
            assert client.get(CLAIM_KEY) == owner.encode()
            assert client.ttl(CLAIM_KEY) > 0  # a run that dies frees it in time
            assert client.dbsize() == 1  # flushed at start: only the claim
            client.set("slogate:quota:t1", "3")
            with claimed_redis(SERVER, owner + "-2", 60) as second:
                assert _db(second) not in (0, number)  # a second run gets another one
    with redis.Redis.from_url(url) as client:
        assert client.dbsize() == 0 or client.get(CLAIM_KEY) not in (None, owner.encode())


def test_a_database_holding_other_data_is_left_alone() -> None:
    owner = f"test-{uuid.uuid4().hex[:8]}"
    with claimed_redis(SERVER, owner, 60) as url:
        number = _db(url)
    foreign = f"not-slogate:{owner}"
    with redis.Redis.from_url(url) as client:
        client.set(foreign, "keep me", ex=60)
        try:
            with claimed_redis(SERVER, owner, 60) as again:
                assert _db(again) != number
            assert client.get(foreign) == b"keep me"
        finally:
            client.delete(foreign)


def test_a_named_database_is_used_as_given_and_not_flushed() -> None:
    with claimed_redis("redis://127.0.0.1:6379/7", "t", 60) as url:
        assert url == "redis://127.0.0.1:6379/7"
