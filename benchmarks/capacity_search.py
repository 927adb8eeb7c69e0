"""Wall time of ``slogate capacity`` against the embedded reference target, per tier.

For each search (the default arrival-rate search, and ``--vary tenants --tier T`` for each
tier) it runs the whole search, then -- as the baseline measured in the same run -- one plain
run of the same scenario at the level the search answered (one step's worth: start-up,
warm-up, hold, shutdown). The ratio says how many plain runs a search costs.

    .venv/bin/python benchmarks/capacity_search.py [--only rate,starter,team,enterprise]
        [--max-time 5m] [--hold 10s] [--no-write]

Appends a section to BENCHMARKS.md (unless --no-write). The machine is shared: the load
average is printed with the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from _common import append_section, machine  # benchmarks/ is on sys.path when run as a script

from foundation.durations import parse_duration
from scenarios.capacity import HoldPolicy, event_rate, scenario_at_level
from scenarios.runner import RunRequest, run_scenario
from scenarios.spec import CATALOG_DIR, load_scenario
from slo.capacity import CapacityResult
from slogate.capacity import CapacityRequest, run_capacity

SEARCHES: dict[str, dict[str, object]] = {
    "rate": dict(vary="rate", tier=None, start=10.0, ceiling=500.0),
    "starter": dict(vary="tenants", tier="starter", start=1.0, ceiling=25.0),
    "team": dict(vary="tenants", tier="team", start=1.0, ceiling=10.0),
    "enterprise": dict(vary="tenants", tier="enterprise", start=1.0, ceiling=5.0),
}
QUOTA = {"starter": 10, "team": 50, "enterprise": 500}


def _search(name: str, out: Path, max_time_s: float, hold_s: float) -> tuple[CapacityResult, float]:
    spec = SEARCHES[name]
    t0 = time.monotonic()
    result, _ = run_capacity(CapacityRequest(
        scenario=load_scenario(CATALOG_DIR / "capacity.yaml"), out_dir=out / name,
        max_time_s=max_time_s, min_hold_s=hold_s, max_hold_s=4 * hold_s,
        formats=("md",), **spec))  # type: ignore[arg-type]
    return result, time.monotonic() - t0


def _one_run(name: str, level: float, out: Path, hold_s: float) -> float:
    spec = SEARCHES[name]
    vary = str(spec["vary"])
    tier = spec["tier"] if isinstance(spec["tier"], str) else None
    base = load_scenario(CATALOG_DIR / "capacity.yaml")
    rate = event_rate(base, vary, level)  # type: ignore[arg-type]
    hold = HoldPolicy(200, hold_s, 4 * hold_s).hold_s(rate)
    loaded = scenario_at_level(base, vary, level, hold,  # type: ignore[arg-type]
                               tier=tier, tenant_sessions=QUOTA.get(tier or ""))
    t0 = time.monotonic()
    run_scenario(RunRequest(scenario=loaded, out_dir=out / f"{name}-baseline"))
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="rate,starter,team,enterprise")
    ap.add_argument("--max-time", default="5m")
    ap.add_argument("--hold", default="10s")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    max_time_s, hold_s = parse_duration(args.max_time), parse_duration(args.hold)
    rows = []
    with tempfile.TemporaryDirectory(prefix="slogate-capacity-bench-") as tmp:
        for name in args.only.split(","):
            result, wall = _search(name, Path(tmp), max_time_s, hold_s)
            single = _one_run(name, result.level or float(SEARCHES[name]["start"]),  # type: ignore[arg-type]
                              Path(tmp), hold_s)
            confirms = sum(1 for s in result.steps if s.confirm)
            rows.append([name, result.sentence,
                         f"{len(result.steps)} ({len(result.steps) - confirms} + {confirms} confirm)",
                         f"{wall:.0f} s", f"{single:.0f} s", f"{wall / single:.1f}x"])
            print(" | ".join(rows[-1]), flush=True)
    load = os.getloadavg()
    outro = (f"Load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end (shared "
             "machine, other engineers' tests running: the answers are this machine's at that "
             "moment, not the target's). Every step starts a fresh embedded target, so a step "
             "costs about one plain run; the search's cost is its step count plus the longer "
             "confirmation hold.")
    intro = (f"`benchmarks/capacity_search.py --max-time {args.max_time} --hold {args.hold}` "
             f"({dt.date.today().isoformat()}; {machine()}): embedded reference target, "
             "`scenarios/catalog/capacity.yaml`, `slo/catalog/capacity.yaml`; baseline: one "
             "plain run of the same scenario at the answered level, measured right after.")
    print(outro)
    if not args.no_write:
        append_section(Path("BENCHMARKS.md"), "## Capacity search", intro,
                       ["search", "answer", "steps", "search wall", "one run", "ratio"], rows, outro)


if __name__ == "__main__":
    main()
