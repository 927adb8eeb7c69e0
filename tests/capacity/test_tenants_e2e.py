"""``--vary tenants`` against the embedded reference target: N starter tenants, each at its
session quota. The SLO is loose (this checks the wiring, not the shared machine's speed)."""

from __future__ import annotations

import json
from pathlib import Path

from scenarios.spec import CATALOG_DIR, load_scenario
from slogate.capacity import CapacityRequest, run_capacity

LOOSE_SLO = """\
objectives:
  - {name: http-availability, sli: availability, target: 99, select: {kind: http}}
  - {name: http-p95, sli: latency, percentile: 95, threshold_ms: 10000, select: {kind: http}}
  - {name: ws-drop-rate, sli: ws_drop_rate, threshold_percent: 1, min_events: 10}
"""


def test_tenants_of_a_tier_at_quota(tmp_path: Path) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(LOOSE_SLO)
    result, _ = run_capacity(CapacityRequest(
        scenario=load_scenario(CATALOG_DIR / "capacity.yaml"), out_dir=tmp_path / "cap",
        vary="tenants", tier="starter", slo_path=slo, start=1, ceiling=2, min_hold_s=6,
        events=100, formats=("md",)))
    assert result.conclusion == "at_least_ceiling", result.sentence
    assert result.sentence.startswith("Holds at least the ceiling of 2 starter tenants at quota")
    assert [(s.level, s.confirm) for s in result.steps] == [(1, False), (2, False), (2, True)]
    for step in result.steps:
        info = json.loads((tmp_path / "cap" / step.run_dir / "run.json").read_text())
        resolved = info["scenario"]["resolved"]
        assert info["scenario"]["tenants"]["starter"] == step.level
        assert info["scenario"]["tenants"]["enterprise"] == 0
        assert resolved["websocket"]["sessions"] == 10 * step.level  # the starter quota each
        assert resolved["http"]["stages"][0]["rate"] == 10 * step.level
