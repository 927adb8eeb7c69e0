"""One load start: the verdict, the claims and the comparison count warm-up from one instant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from foundation.layout import RunLayout
from slo.claims import gather_evidence
from slo.compare.load import load_run
from slo.measure import load_measurements
from slo.spec import LatencyObjective
from slo.timeline import run_timeline
from tests.slo.conftest import T0, samples_table

MakeRun = Callable[..., Path]


def test_verdict_claims_and_comparison_share_the_load_start(make_run: MakeRun) -> None:
    # provisioning took 3 s after run.json's started_at; the first request was *scheduled* at
    # T0 + 3 and sent 0.2 s late; the runner stamped load_started_at when the first worker
    # reported, 0.9 s after the first request. Three candidate instants, one definition.
    n = 600
    intended = T0 + 3.0 + np.linspace(0, 57, n, endpoint=False)
    run = make_run([samples_table(n, ts=intended + 0.2, intended_ts=intended)],
                   warmup_s=5.0, load_started_at=T0 + 3.9)
    objective = LatencyObjective(name="p95", sli="latency", percentile=95, threshold_ms=500)
    verdict_start = load_measurements(run, [objective]).facts.started_at
    claims_start = gather_evidence(run).run.load_start
    compare = load_run(run)
    assert verdict_start == claims_start == pytest.approx(T0 + 3.0)
    assert compare.window_start == pytest.approx(T0 + 3.0 + 5.0)
    timeline = run_timeline(RunLayout(run).read_info(), float(intended.min()))
    assert timeline.judged_from == compare.window_start
    assert timeline.load_s == pytest.approx(60.0 - 3.0)


def test_without_samples_the_runner_stamp_then_started_at(make_run: MakeRun) -> None:
    info = RunLayout(make_run([samples_table(0)], load_started_at=T0 + 2.5)).read_info()
    assert run_timeline(info, None).load_start == T0 + 2.5
    bare = RunLayout(make_run([samples_table(0)])).read_info()
    assert run_timeline(bare, None).load_start == T0
    # a sample stamped before the run started (clock step) never moves the start earlier
    assert run_timeline(bare, T0 - 10).load_start == T0
