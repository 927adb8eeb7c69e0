"""Read a target's ``/metrics`` before and after a run (no Prometheus server needed).

Parsing uses prometheus_client's own text parser (the exposition format's reference
implementation in Python), so counters, ``_bucket``/``_count``/``_sum`` samples and escaped
label values come out exactly as Prometheus would store them.

Example::

    source = ScrapeSource("http://127.0.0.1:8000")
    source.start()                 # just before the load starts
    ...                            # run
    source.stop()                  # just after the last request completed
    record = source.measure(config, Window(t0, t1))
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from foundation.errors import SourceError
from slo.server import ServerRecord
from slo.sources.base import Snapshot, Window, series_key
from slo.sources.delta import record_from_snapshots
from slo.spec.model import CrossCheckConfig

__all__ = ["ScrapeSource", "parse_exposition", "scrape"]


def parse_exposition(text: str) -> Snapshot:
    """Every sample of a text exposition, keyed by sample name and labels."""
    snapshot: Snapshot = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                snapshot[series_key(sample.name, dict(sample.labels))] = float(sample.value)
    except ValueError as exc:
        raise SourceError(f"the /metrics text is not the Prometheus exposition format: {exc}") \
            from exc
    return snapshot


def scrape(url: str, client: httpx.Client | None = None, timeout: float = 10.0) -> Snapshot:
    """GET ``url`` (a full /metrics URL) and parse it."""
    try:
        getter = client.get if client is not None else httpx.get
        response = getter(url, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SourceError(f"could not scrape {url}: {exc}") from exc
    return parse_exposition(response.text)


class ScrapeSource:
    """Two scrapes of ``base_url + metrics_path``: one at :meth:`start`, one at :meth:`stop`."""

    def __init__(self, base_url: str, metrics_path: str = "/metrics",
                 client: httpx.Client | None = None) -> None:
        self.url = base_url.rstrip("/") + metrics_path
        self._client = client
        self.before: Snapshot | None = None
        self.after: Snapshot | None = None

    def start(self) -> None:
        self.before = scrape(self.url, self._client)

    def stop(self) -> None:
        self.after = scrape(self.url, self._client)

    def measure(self, config: CrossCheckConfig, window: Window) -> ServerRecord:
        if self.before is None or self.after is None:
            raise SourceError("scrape source used before start() and stop() were both called")
        return record_from_snapshots(self.before, self.after, config, window,
                                     source="scrape", url=self.url)
