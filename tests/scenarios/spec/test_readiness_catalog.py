"""The readiness scenarios (scenarios/catalog/readiness*.yaml) load and keep their promises:
at most 10 min (CI: 3 min), 1,000+ sessions at every tier's quota, a 3x spike that no fault
overlaps, a provider 429 storm, a kill, a database outage, and (full run only) a quiet tail
of >= 5 min after the last fault for the memory slope.

Each file must load whole with :func:`load_scenario`; the timeline's promises are checked
from the YAML itself as well, so a change to the loader cannot hide a broken file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from foundation.durations import parse_duration
from scenarios.spec import CATALOG_DIR, load_scenario
from slo.claims.facts import _spike_window
from slo.claims.judge import LEAK_MIN_S
from slo.sli_kinds.memory_slope import SETTLE_S
from slo.spec.load import load_slo

FILES = {"readiness": 600.0, "readiness-ci": 180.0}


def _raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CATALOG_DIR / f"{name}.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(("name", "limit_s"), FILES.items())
def test_loads_whole_and_fits(name: str, limit_s: float) -> None:
    loaded = load_scenario(name)  # by catalog name, as `slogate run readiness` does
    s = loaded.scenario
    assert s.name == name
    assert len(s.faults) == 3
    assert s.total_duration() <= limit_s
    assert s.embedded.workers == 2 and s.embedded.database == "owned-postgres"
    assert s.websocket is not None and s.tenants is not None
    sessions = sum(n * s.tenants.counts()[t] for t, n in s.websocket.sessions_per_tenant.items())
    assert sessions >= 1000
    assert s.websocket.sessions_per_tenant == {"starter": 10, "team": 50, "enterprise": 500}
    assert loaded.slo_path is not None
    assert [o.name for o in load_slo(loaded.slo_path).objectives][:2] == [
        "beta-availability", "beta-p95"]


@pytest.mark.parametrize(("name", "limit_s"), FILES.items())
def test_fault_timeline_is_complete_and_clear_of_the_spike(name: str, limit_s: float) -> None:
    raw = _raw(name)
    assert raw["embedded"]["database"] == "owned-postgres" and raw["embedded"]["redis"]
    faults = raw["faults"]
    kinds = {next(k for k in ("target", "kill", "database", "exec") if k in f) for f in faults}
    assert kinds == {"target", "kill", "database"}
    storm = next(f for f in faults if "target" in f)
    assert storm["target"] == {"provider": "rate_limit_storm"}
    stages = [{**st, "duration": parse_duration(st["duration"]),
               "hold": parse_duration(st["hold"]) if "hold" in st else None} for st in raw["stages"]]
    spike = _spike_window(stages)
    assert spike is not None and spike.factor == 3
    spans = [(parse_duration(f["at"]), parse_duration(f["at"]) + parse_duration(f.get("for", 0)))
             for f in faults]
    for a, b in spans:
        assert b <= limit_s
        assert b <= spike.start_s or a >= spike.end_s  # no fault during the spike (claim 10)
    quiet_tail = limit_s - (max(b for _, b in spans) + SETTLE_S)
    if name == "readiness":
        assert quiet_tail >= LEAK_MIN_S + 30  # claim 3, with room for the database to recover


def test_a_bare_catalog_name_loads_the_shipped_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_scenario("smoke").path == CATALOG_DIR / "smoke.yaml"
    (tmp_path / "smoke").write_text("target: embedded\nduration: 5s\nload: {users: 1}\n")
    assert load_scenario("smoke").path == Path("smoke")  # a real file wins over the catalog
