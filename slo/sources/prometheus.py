"""Ask a Prometheus server what the target measured over the run window.

Queries go through prometheus-api-client (``PrometheusConnect.custom_query`` and
``custom_query_range``) against the HTTP API:

- the counter and every ``_bucket``/``_count``/``_sum`` series **at the start and end instants**
  (two instant queries with ``time=``), whose difference is the window's count -- not
  ``increase()``, which extrapolates;
- gauges with a 1 s range query over the window (min, max, last).

``job``/``instance`` labels are summed away, so a target scraped as several instances (one per
API process) adds up to one series per label set, like the client's view.

Which instants: Prometheus stamps a sample with the time its scrape *began*, but the target
renders the values a little later. So the start value is read at ``start - scrape_interval``
(that scrape finished rendering before the run began: a scrape takes at most its timeout,
which is at most the interval), and the end value at ``end + scrape_interval`` (some scrape
began after the last request). Before querying, :meth:`PrometheusSource.measure` waits
(bounded) until Prometheus has such a scrape; without one the note says counts may be short.
Traffic that is not the run's inside those margins (e.g. a health probe) is counted too.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from foundation.errors import SourceError
from slo.server import GaugeSummary, ServerRecord
from slo.sources.base import Snapshot, Window, series_key
from slo.sources.delta import record_from_snapshots
from slo.spec.model import CrossCheckConfig

__all__ = ["PrometheusSource"]

_DROP = ("job", "instance")


class PrometheusSource:
    """A Prometheus server at ``url`` that scraped the target during the run.

    Example::

        record = PrometheusSource("http://127.0.0.1:9090").measure(config, Window(t0, t1))
    """

    def __init__(
        self,
        url: str,
        *,
        scrape_interval_s: float = 1.0,
        scrape_wait_s: float = 15.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        connect: Any = None,
    ) -> None:
        # Imported here: the package pulls in pandas, which `import slo` should not pay for.
        import requests
        from prometheus_api_client import PrometheusConnect
        from prometheus_api_client.exceptions import PrometheusApiClientException

        self._errors: tuple[type[Exception], ...] = (
            PrometheusApiClientException, requests.RequestException, ValueError, KeyError,
        )

        self.url = url.rstrip("/")
        self.scrape_interval_s = scrape_interval_s
        self.scrape_wait_s = scrape_wait_s
        self._clock = clock
        self._sleep = sleep
        self._prom = connect if connect is not None else PrometheusConnect(
            url=self.url, disable_ssl=True, timeout=30
        )

    def measure(self, config: CrossCheckConfig, window: Window) -> ServerRecord:
        end = window.end + self.scrape_interval_s
        notes = self.wait_for_scrape_after(end)
        names = [config.request_counter, *config.extra_counters]
        for h in dict.fromkeys([config.latency_histogram, *config.extra_histograms]):
            names += [f"{h}_bucket", f"{h}_count", f"{h}_sum"]
        selector = "{__name__=~\"" + "|".join(re.escape(n) for n in names) + "\"}"
        before = self.instant(selector, window.start - self.scrape_interval_s)
        if not self._query("up", {"time": f"{window.start - self.scrape_interval_s:.3f}"}):
            notes.append(
                "Prometheus has no scrape from before the run's start, so the counts include "
                "everything since the target started; start Prometheus (and wait for two "
                "scrapes) before the load"
            )
        after = self.instant(selector, end)
        gauges = self.gauges(config.gauges, window)
        record = record_from_snapshots(before, after, config, window, source="prometheus",
                                       url=self.url, gauges=gauges)
        return record.model_copy(update={"notes": [*record.notes, *notes]})

    def instant(self, query: str, at: float) -> Snapshot:
        """The instant vector of ``query`` at ``at``, job/instance summed away."""
        snapshot: Snapshot = {}
        for item in self._query(query, {"time": f"{at:.3f}"}):
            key = series_key(item["metric"].get("__name__", ""), _labels(item["metric"]))
            snapshot[key] = snapshot.get(key, 0.0) + float(item["value"][1])
        return snapshot

    def gauges(self, names: list[str], window: Window) -> list[GaugeSummary]:
        """min/max/last of each gauge over the window (1 s resolution)."""
        if not names:
            return []
        selector = "{__name__=~\"" + "|".join(re.escape(n) for n in names) + "\"}"
        start = datetime.fromtimestamp(window.start, UTC)
        end = datetime.fromtimestamp(max(window.end, window.start + 1), UTC)
        try:
            result = self._prom.custom_query_range(selector, start, end, "1s")
        except self._errors as exc:
            raise SourceError(f"Prometheus at {self.url} failed a range query: {exc}") from exc
        series: dict[Any, list[float]] = {}
        for item in result:
            key = series_key(item["metric"].get("__name__", ""), _labels(item["metric"]))
            values = [float(v) for _, v in item["values"] if not math.isnan(float(v))]
            series.setdefault(key, []).extend(values)  # several instances: one list
        return [
            GaugeSummary(name=name, labels=dict(labels), min=min(v), max=max(v), last=v[-1])
            for (name, labels), v in sorted(series.items()) if v
        ]

    def range_query(self, query: str, start: float, end: float,
                    step_s: float = 1.0) -> list[dict[str, Any]]:
        """``query`` over ``[start, end]`` at ``step_s``: Prometheus's matrix result."""
        try:
            return list(self._prom.custom_query_range(
                query, datetime.fromtimestamp(start, UTC),
                datetime.fromtimestamp(max(end, start + step_s), UTC), f"{step_s:g}s"))
        except self._errors as exc:
            raise SourceError(f"Prometheus at {self.url} failed a range query: {exc}") from exc

    def wait_for_scrape_after(self, end: float) -> list[str]:
        """Poll until some target was scraped after ``end``; a note if it never was."""
        deadline = self._clock() + self.scrape_wait_s
        latest = -math.inf
        while True:
            result = self._query("max(timestamp(up))", {})
            if result:
                latest = float(result[0]["value"][1])
            if latest >= end:
                return []
            if self._clock() >= deadline:
                return [f"Prometheus's last scrape ({latest:.3f}) is before the run's end "
                        f"({end:.3f}): requests of the last moments may be missing"]
            self._sleep(0.2)

    def _query(self, query: str, params: dict[str, str]) -> list[dict[str, Any]]:
        try:
            return list(self._prom.custom_query(query, params=params))
        except self._errors as exc:
            raise SourceError(
                f"Prometheus at {self.url} did not answer {query!r}: {exc}; "
                "check --prometheus URL"
            ) from exc


def _labels(metric: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metric.items() if k not in _DROP and k != "__name__"}
