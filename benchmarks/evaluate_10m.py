"""Evaluate 10 million samples: slogate's evaluator vs a plain pandas groupby-quantile baseline.

    .venv/bin/python benchmarks/evaluate_10m.py [--samples 10000000] [--keep DIR] [--append]

1. Writes a synthetic run record (4 worker parts, the real sample schema, zstd Parquet like
   the recorder) with a realistic mix: 80 % HTTP over 12 operations and 3 tiers / 30
   tenants, WebSocket connects, first tokens, messages and a few unexpected closes.
2. Runs, each in a fresh subprocess so peak RSS is its own (``ru_maxrss``):
   - **slogate**: ``evaluate_run`` with ``slo/catalog/default.yaml`` (6 objectives: HTTP
     availability, p95, p95 per tier, WS drop rate, TTFT p95, message p95), which reads the
     Parquet parts, evaluates and writes verdict.json;
   - **pandas baseline**: ``pd.read_parquet`` of the same columns, then the same statistics
     with ``groupby(...).quantile(0.95)`` / ``mean`` (linear-interpolated quantiles, no
     budgets, no burn-rate replay, no verdict) -- what one would write by hand.
3. Prints both side by side with the ratio, and checks the two agree on the p95s to 1 %.
   Budget: slogate must take <= 3 s and <= 2 GB peak RSS. Each side runs ``--repeat`` times
   (default 3) and the fastest counts, since the machine is shared. ``--append`` adds the result
   with the machine description to BENCHMARKS.md under "## Evaluate".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import write_parts  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from foundation.layout import RunInfo, RunLayout, RunStatus  # noqa: E402
from scenarios.record import SAMPLE_SCHEMA  # noqa: E402

T0 = 1_764_000_000.0
DURATION = 600.0
BUDGET_S = 3.0
BUDGET_RSS_MB = 2048.0
HTTP_NAMES = [f"{m} /v1/route{i}" for i, m in enumerate(["GET", "POST"] * 6)]


def write_record(run_dir: Path, n: int, parts: int = 4) -> None:
    """The synthetic run record (deterministic: seed 7)."""
    rng = np.random.default_rng(7)
    layout = RunLayout(run_dir)
    write_parts(layout.samples_dir, layout.part_path, n, parts, lambda m, w: _part(rng, m, w))
    layout.write_info(
        RunInfo(
            run_id="bench-10m",
            target_url="http://127.0.0.1:1",
            started_at=T0,
            ended_at=T0 + DURATION,
            status=RunStatus.COMPLETE,
            warmup_s=0.0,
        )
    )


def _part(rng: np.random.Generator, m: int, worker: int) -> pa.Table:
    kinds = np.array(["http", "ws_connect", "ws_first_token", "ws_message", "ws_close"])
    kind_idx = rng.choice(5, size=m, p=[0.80, 0.02, 0.089, 0.089, 0.002])
    tiers = np.array(["starter", "team", "enterprise"])
    ts = np.sort(T0 + rng.random(m) * DURATION)
    ok = rng.random(m) > 0.001
    latency = rng.lognormal(3.5, 0.6, m)
    return pa.Table.from_arrays(
        [
            pa.array(ts),
            pa.array(ts),
            pa.array(latency),
            pa.DictionaryArray.from_arrays(pa.array(kind_idx.astype(np.int32)), pa.array(kinds)).cast(
                pa.string()
            ),
            pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(HTTP_NAMES), m).astype(np.int32)), pa.array(HTTP_NAMES)
            ).cast(pa.string()),
            pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, 30, m).astype(np.int32)),
                pa.array([f"tenant-{i}" for i in range(30)]),
            ).cast(pa.string()),
            pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, 3, m).astype(np.int32)), pa.array(tiers)
            ).cast(pa.string()),
            pa.array(ok),
            pa.array(np.where(ok, 200, 500).astype(np.int32)),
            pa.array(np.where(ok, "", "HTTP 500")),
            pa.array(rng.integers(100, 2000, m)),
            pa.array(np.full(m, worker, np.int32)),
        ],
        schema=SAMPLE_SCHEMA,
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_slogate(run_dir: str) -> dict[str, object]:
    from slo.evaluate_run import EvaluateRequest, evaluate_run

    start, cpu = time.perf_counter(), _cpu()
    outcome = evaluate_run(EvaluateRequest(run_dir=Path(run_dir)))
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    values = {o.name: o.value for o in outcome.verdict.objectives}
    return {"seconds": elapsed, "cpu_seconds": cpu, "values": values, "status": outcome.verdict.status.value}


def child_pandas(run_dir: str) -> dict[str, object]:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    start, cpu = time.perf_counter(), _cpu()
    df = pd.read_parquet(Path(run_dir) / "samples", columns=["ts", "ok", "latency_ms", "kind", "tier"])
    http = df[df["kind"] == "http"]
    by_kind = df.groupby("kind", observed=True)["latency_ms"].quantile(0.95)
    by_tier = http.groupby("tier", observed=True)["latency_ms"].quantile(0.95)
    availability = 100.0 * http["ok"].mean()
    counts = df["kind"].value_counts()
    drop = 100.0 * counts.get("ws_close", 0) / max(1, int(counts.get("ws_connect", 0)))
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    values = {
        "http-availability": float(availability),
        "http-p95": float(by_kind["http"]),
        "http-p95-per-tier": float(by_tier.max()),
        "ws-drop-rate": float(drop),
        "ws-time-to-first-token": float(by_kind["ws_first_token"]),
        "ws-message-p95": float(by_kind["ws_message"]),
    }
    return {"seconds": elapsed, "cpu_seconds": cpu, "values": values}


def run_child(which: str, run_dir: Path) -> dict[str, object]:
    """Run one side in a fresh interpreter; it reports seconds and its own peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, str(run_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pandas  # type: ignore[import-untyped,unused-ignore]

    return (
        f"{os.cpu_count()} vCPU ({model}), Python {platform.python_version()}, "
        f"numpy {np.__version__}, pyarrow {pa.__version__}, pandas {pandas.__version__}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="write the record here and keep it")
    parser.add_argument("--append", action="store_true", help="append to BENCHMARKS.md")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per side; the fastest is reported (less noise on a shared box)",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, run_dir = args.child
        result = child_slogate(run_dir) if which == "slogate" else child_pandas(run_dir)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="slogate-bench-") as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        t = time.perf_counter()
        write_record(run_dir, args.samples)
        print(
            f"wrote {args.samples:,} samples in {time.perf_counter() - t:.1f} s "
            f"({sum(p.stat().st_size for p in RunLayout(run_dir).samples_dir.iterdir()) / 1e6:.0f} MB)"
        )
        ours = best([run_child("slogate", run_dir) for _ in range(args.repeat)])
        base = best([run_child("pandas", run_dir) for _ in range(args.repeat)])
    return report(args, ours, base)


def best(runs: list[dict[str, object]]) -> dict[str, object]:
    """The fastest run (wall time), with the largest peak RSS seen over all of them."""
    fastest = dict(min(runs, key=lambda r: float(r["seconds"])))  # type: ignore[arg-type]
    fastest["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
    fastest["cpu_seconds"] = min(float(r["cpu_seconds"]) for r in runs)  # type: ignore[arg-type]
    return fastest


def report(args: argparse.Namespace, ours: dict[str, object], base: dict[str, object]) -> int:
    s_o, s_b = float(ours["seconds"]), float(base["seconds"])  # type: ignore[arg-type]
    r_o, r_b = float(ours["peak_rss_mb"]), float(base["peak_rss_mb"])  # type: ignore[arg-type]
    c_o, c_b = float(ours["cpu_seconds"]), float(base["cpu_seconds"])  # type: ignore[arg-type]
    rows = [
        ("", "slogate evaluate", "pandas groupby-quantile", "ratio (pandas / slogate)"),
        ("wall time", f"{s_o:.2f} s", f"{s_b:.2f} s", f"{s_b / s_o:.2f}x"),
        ("CPU time", f"{c_o:.2f} s", f"{c_b:.2f} s", f"{c_b / c_o:.2f}x"),
        ("peak RSS", f"{r_o:.0f} MB", f"{r_b:.0f} MB", f"{r_b / r_o:.2f}x"),
    ]
    for row in rows:
        print(f"{row[0]:<10} {row[1]:>18} {row[2]:>24} {row[3]:>26}")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    vo, vb = ours["values"], base["values"]
    assert isinstance(vo, dict) and isinstance(vb, dict)
    worst = max(abs(vo[k] - vb[k]) / vb[k] for k in vb if vb[k])
    print(
        f"largest relative difference between the two ({len(vb)} statistics): {worst:.4%} "
        "(nearest-rank vs linear interpolation)"
    )
    ok = s_o <= BUDGET_S and r_o <= BUDGET_RSS_MB and worst < 0.01
    print("within budget (<= 3 s, <= 2 GB, agree to 1 %):", "yes" if ok else "NO")
    if args.append:
        append_markdown(args.samples, rows, worst, ok)
    return 0 if ok else 1


def append_markdown(n: int, rows: list[tuple[str, str, str, str]], worst: float, ok: bool) -> None:
    path = ROOT / "BENCHMARKS.md"
    lines = [] if path.exists() else ["# Benchmarks", ""]
    text = path.read_text() if path.exists() else ""
    if "## Evaluate" not in text:
        lines += ["## Evaluate", ""]
    lines += [
        f"`benchmarks/evaluate_10m.py --samples {n}` ({time.strftime('%Y-%m-%d')}; {machine()}):"
        " evaluate the default SLO file (6 objectives) over a 4-part run record, each side in"
        " a fresh process (fastest of --repeat runs; largest peak RSS, from `ru_maxrss`).",
        "",
        "| | " + " | ".join(rows[0][1:]) + " |",
        "|---|---|---|---|",
        *("| " + " | ".join(r) + " |" for r in rows[1:]),
        "",
        f"Load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (a shared machine:"
        " wall time rises with load, CPU time much less). "
        f"Results agree to {worst:.3%} (nearest-rank vs pandas' linear interpolation). "
        f"Budget (<= 3 s, <= 2 GB): {'met' if ok else 'NOT met'}.",
        "",
    ]
    with path.open("a", encoding="utf-8") as f:
        if text and not text.endswith("\n"):
            f.write("\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
