"""The run record's sample contract: the columns of ``samples/`` and their ``kind`` values.

run.json and the file layout every room shares live in :mod:`foundation.layout`; the
format is documented for users in README.md ("Run record").
"""

from __future__ import annotations

import enum
from typing import Final

import pyarrow as pa

__all__ = ["SAMPLE_SCHEMA", "SampleKind"]

SAMPLE_SCHEMA: Final = pa.schema(
    [
        pa.field("ts", pa.float64(), nullable=False),  # epoch s, actual send
        pa.field("intended_ts", pa.float64(), nullable=False),  # epoch s, scheduled send
        pa.field("latency_ms", pa.float64(), nullable=False),  # completion - ts
        pa.field("kind", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("tenant", pa.string(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("ok", pa.bool_(), nullable=False),
        pa.field("status", pa.int32(), nullable=False),  # HTTP status / WS close code, 0 = transport
        pa.field("error", pa.string(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("worker", pa.int32(), nullable=False),
    ]
)
"""Columns of ``samples/``. Corrected response time is derived, never stored:
``latency_ms + (ts - intended_ts) * 1000``."""


class SampleKind(enum.StrEnum):
    """Values of the ``kind`` column written by slogate's own generators."""

    HTTP = "http"
    WS_CONNECT = "ws_connect"
    WS_MESSAGE = "ws_message"
    WS_FIRST_TOKEN = "ws_first_token"
    WS_CLOSE = "ws_close"  # an unexpected close: status = close code, error = reason
    CHECK = "check"  # a verification the runner made, e.g. the post-run durability read-back
    HEALTH = "health"  # the runner's health prober during the run (scenarios/faults/prober.py)
    RECOVERY = "recovery"  # one per fault: time from its end to the first good health probe
