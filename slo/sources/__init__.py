"""Server-side measurements for the cross-check: Prometheus, /metrics scrapes, and a fake.

``MetricsSource.measure(config, window) -> ServerRecord`` is the one interface
(:mod:`.base`); :func:`slo.crosscheck.cross_check_run` writes ``server.json`` from it.
"""

from slo.sources.base import MetricsSource, Snapshot, Window, series_key
from slo.sources.fake import FakeSource
from slo.sources.local import LocalPrometheus, find_prometheus
from slo.sources.prometheus import PrometheusSource
from slo.sources.reconcile import CrossCheck, operation_key, reconcile
from slo.sources.scrape import ScrapeSource, parse_exposition, scrape

__all__ = [
    "CrossCheck",
    "FakeSource",
    "LocalPrometheus",
    "MetricsSource",
    "PrometheusSource",
    "ScrapeSource",
    "Snapshot",
    "Window",
    "find_prometheus",
    "operation_key",
    "parse_exposition",
    "reconcile",
    "scrape",
    "series_key",
]
