"""Cross-check a finished run against the target's own metrics; write ``server.json``.

The shell around :func:`slo.sources.reconcile.reconcile`: read the run window from run.json,
ask the source, read the client's HTTP samples, reconcile, write. ``slogate run`` calls it at
the end of a run (with a :class:`~slo.sources.LocalPrometheus` or a
:class:`~slo.sources.ScrapeSource`); ``slogate evaluate --prometheus URL`` calls it after.

Example::

    record = cross_check_run(run_dir, PrometheusSource("http://127.0.0.1:9090"))
    record.findings      # [] when client and server agree
"""

from __future__ import annotations

from pathlib import Path

from foundation.errors import RunIncompleteError
from foundation.layout import RunLayout
from scenarios.record import read_samples
from slo.measure import read_run_info
from slo.samples import SampleColumns
from slo.server import ServerRecord, write_server_record
from slo.sources.base import MetricsSource, Window
from slo.sources.reconcile import reconcile
from slo.spec.model import CrossCheckConfig

__all__ = ["cross_check_run"]


def cross_check_run(
    run_dir: str | Path, source: MetricsSource, config: CrossCheckConfig | None = None
) -> ServerRecord:
    """Measure the run window with ``source``, reconcile with the samples, write server.json."""
    config = config or CrossCheckConfig()
    info = read_run_info(run_dir)
    if info.ended_at is None:
        raise RunIncompleteError(
            f"run {info.run_id} has no end time in run.json, so its window is unknown; "
            "a cross-check needs a finished run"
        )
    record = source.measure(config, Window(info.started_at, info.ended_at))
    table = read_samples(run_dir, columns=["ts", "ok", "kind", "name", "status", "latency_ms"],
                         read_dictionary=["kind", "name"])
    check = reconcile(SampleColumns.from_arrow(table), record, config)
    record = record.model_copy(update={
        "reconciliation": check.reconciliation,
        "quantiles": check.quantiles,
        "findings": check.findings,
    })
    write_server_record(record, RunLayout(run_dir).server_json)
    return record
