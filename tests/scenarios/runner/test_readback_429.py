"""The read-back counts runs that failed on the provider's 429s (claim 8's "retry" check).

The target's list API is faked with ``httpx.MockTransport``: the read-back's own logic
(paging, final states, the reason test) is what is under test here; the real target's
reasons come from target_service/orchestration/executor.py, quoted verbatim below.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pyarrow.parquet as pq

from scenarios.runner.readback import ReadBack, _list_runs, record_read_back

REASON_429 = "provider failed after 5 attempt(s): provider rate limit exceeded (429)"


def _client(pages: list[dict[str, object]]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        return httpx.Response(200, json=pages[int(cursor) if cursor else 0])

    return httpx.Client(base_url="http://127.0.0.1:1", transport=httpx.MockTransport(handler))


def test_failed_runs_are_counted_only_when_the_reason_names_the_429() -> None:
    pages: list[dict[str, object]] = [
        {"items": [{"source": "http", "status": "succeeded", "reason": None},
                   {"source": "http", "status": "failed", "reason": REASON_429}],
         "next_cursor": "1"},
        {"items": [{"source": "http", "status": "failed", "reason": "database unavailable"},
                   {"source": "ws", "status": "failed", "reason": REASON_429},
                   {"source": "http", "status": "running", "reason": None}],
         "next_cursor": None},
    ]
    with _client(pages) as client:
        assert _list_runs(client, "token") == (4, 1, 2)  # listed (http), unfinished, 429s


def test_retry_check_samples_are_written_per_tenant(tmp_path: Path) -> None:
    results = [ReadBack("t1", "team", 3, 3, 0, 0.2), ReadBack("t2", "team", 2, 2, 0, 0.1,
                                                             failed_429=2)]
    record_read_back(tmp_path, 0, results, 15.0)
    table = pq.read_table(tmp_path / "samples" / "part-0.parquet").to_pylist()
    retry = [r for r in table if r["name"].startswith("retry:")]
    assert [(r["tenant"], r["ok"]) for r in retry] == [("t1", True), ("t2", False)]
    assert "2 runs failed on provider 429s" in retry[1]["error"]
