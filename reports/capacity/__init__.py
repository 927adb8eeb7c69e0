"""Capacity search reports (HTML with the latency-throughput curve, Markdown, JSON, JUnit),
rendered from ``capacity.json`` (:mod:`slo.capacity`). User doc: docs/capacity.md."""

from reports.capacity.render import (
    CAPACITY_FILES,
    CAPACITY_FORMATS,
    render_capacity,
    render_capacity_json,
)

__all__ = ["CAPACITY_FILES", "CAPACITY_FORMATS", "render_capacity", "render_capacity_json"]
