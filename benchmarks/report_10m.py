"""Render every report format for 10 million samples: slogate vs a naive pandas baseline.

    .venv/bin/python benchmarks/report_10m.py [--samples 10000000] [--repeat 3] [--keep DIR]
                                              [--append]

1. Writes a synthetic run record: 4 worker parts with the real sample schema (zstd Parquet,
   plain string columns, as the recorder writes them), 600 s of load, 80 % HTTP over 12
   operations x 3 tiers, WebSocket connects / first tokens / messages / closes, 1 % errors
   with 4 error texts, an open-model send delay for coordinated omission; a 600-row
   timeseries; and a verdict from slogate's own evaluator (``slo/catalog/default.yaml``).
2. Times, each in a fresh subprocess (the fastest of ``--repeat`` counts; the machine is
   shared):
   - **slogate**: ``reports.render_all`` -- HTML, Markdown, JSON and JUnit, from reading the
     record to the four files written (claims, risks, every table, every chart);
   - **pandas baseline**: ``pd.read_parquet`` of the same columns, then the same tables
     the SRE detail shows, written the obvious way: ``groupby([...]).quantile([...])`` per
     route (raw and corrected), per tier, per kind, per kind and second, failures by
     ``(error, status)`` -- and no rendering at all.
3. Prints both with the ratio; budget: slogate <= 5 s. ``--append`` adds the result with
   the machine description to BENCHMARKS.md under "## Reports".
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
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import write_parts  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from foundation.layout import RunInfo, RunLayout, RunStatus  # noqa: E402
from scenarios.record import SAMPLE_SCHEMA  # noqa: E402

T0 = 1_764_000_000.0
DURATION = 600.0
BUDGET_S = 5.0
HTTP_NAMES = [f"{m} /v1/route{i}" for i, m in enumerate(["GET", "POST"] * 6)]
ERRORS = ["", "timeout", "connection reset", "HTTP 503", "HTTP 429"]


def write_record(run_dir: Path, n: int, parts: int = 4) -> None:
    """The synthetic run record (deterministic: seed 11)."""
    rng = np.random.default_rng(11)
    layout = RunLayout(run_dir)
    write_parts(layout.samples_dir, layout.part_path, n, parts, lambda m, w: _part(rng, m, w))
    t = np.arange(DURATION)
    ts_cols = {"ts": T0 + t + 1, "elapsed_s": t + 1, "ws_sessions": np.full(t.size, 1020)}
    for tier, n_t in (("starter", 20), ("team", 100), ("enterprise", 900)):
        ts_cols[f"ws_sessions_{tier}"] = np.full(t.size, n_t)
    ts_cols.update(
        target_cpu_percent=50 + t % 7,
        target_rss_bytes=2e8 + t * 1e3,
        generator_cpu_percent=70 + t % 5,
        generator_rss_bytes=np.full(t.size, 9e7),
    )
    pq.write_table(pa.table(ts_cols), layout.timeseries)
    scenario = {
        "name": "bench-10m",
        "resolved": {
            "websocket": {
                "sessions": 1020,
                "groups": [
                    {"tier": tier, "tenant": f"{tier}-{k}", "sessions": s}
                    for tier, s, k_n in (("starter", 10, 2), ("team", 50, 2), ("enterprise", 450, 2))
                    for k in range(k_n)
                ],
            }
        },
    }
    layout.write_info(
        RunInfo(
            run_id="bench-10m",
            target_url="http://127.0.0.1:1",
            started_at=T0,
            ended_at=T0 + DURATION,
            status=RunStatus.COMPLETE,
            warmup_s=30.0,
            scenario=scenario,
            host={"hostname": "bench", "cpu_count": os.cpu_count()},
            workers=4,
        )
    )


def _part(rng: np.random.Generator, m: int, worker: int) -> pa.Table:
    kinds = np.array(["http", "ws_connect", "ws_first_token", "ws_message", "ws_close"])
    kind_idx = rng.choice(5, size=m, p=[0.80, 0.02, 0.089, 0.089, 0.002])
    ts = np.sort(T0 + rng.random(m) * DURATION)
    err_idx = np.where(rng.random(m) < 0.01, rng.integers(1, len(ERRORS), m), 0)
    http = kind_idx == 0
    names = np.where(http, np.array(HTTP_NAMES)[rng.integers(0, 12, m)], "session")
    status = np.where(err_idx == 0, 200, np.where(err_idx <= 2, 0, 503)).astype(np.int32)
    return pa.Table.from_arrays(
        [
            pa.array(ts),
            pa.array(ts - np.where(http, rng.exponential(0.004, m), 0.0)),
            pa.array(rng.lognormal(3.5, 0.6, m)),
            pa.array(kinds[kind_idx]),
            pa.array(names),
            pa.array(np.array([f"t{i}" for i in range(30)])[rng.integers(0, 30, m)]),
            pa.array(np.array(["starter", "team", "enterprise"])[rng.integers(0, 3, m)]),
            pa.array(err_idx == 0),
            pa.array(status),
            pa.array(np.array(ERRORS)[err_idx]),
            pa.array(np.full(m, 512, dtype=np.int64)),
            pa.array(np.full(m, worker, dtype=np.int32)),
        ],
        schema=SAMPLE_SCHEMA,
    )


def run_slogate(run_dir: Path) -> dict[str, float]:
    from reports.render import render_all

    t, c = time.perf_counter(), time.process_time()
    paths = render_all(run_dir)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - c
    sizes = {f"{k}_bytes": float(p.stat().st_size) for k, p in paths.items()}
    return {"seconds": elapsed, "cpu_seconds": cpu, **sizes}


def run_pandas(run_dir: Path) -> dict[str, float]:
    import pandas as pd

    cols = ["ts", "intended_ts", "latency_ms", "kind", "name", "tier", "ok", "status", "error"]
    t, c = time.perf_counter(), time.process_time()
    df = pd.concat(
        [pd.read_parquet(p, columns=cols) for p in sorted((run_dir / "samples").glob("part-*.parquet"))],
        ignore_index=True,
    )
    df["corrected"] = df.latency_ms + (df.ts - df.intended_ts).clip(lower=0) * 1000
    q = [0.5, 0.95, 0.99, 1.0]
    routes = df.groupby(["kind", "name"]).agg(count=("ok", "size"), ok=("ok", "sum"))
    routes = routes.join(df.groupby(["kind", "name"]).latency_ms.quantile(q).unstack())
    routes = routes.join(
        df.groupby(["kind", "name"]).corrected.quantile([0.95, 0.99]).unstack(), rsuffix="_c"
    )
    tiers = df.groupby(["tier", "kind"]).latency_ms.quantile(q[:3]).unstack()
    kinds = df.groupby("kind")[["latency_ms", "corrected"]].quantile(
        [0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0]
    )
    df["second"] = ((df.ts - T0) // 4).astype("int64")
    series = df.groupby(["kind", "second"]).latency_ms.quantile([0.5, 0.95, 0.99]).unstack()
    failures = (
        df[~df.ok]
        .groupby(["error", "status"])
        .agg(count=("ok", "size"), first=("ts", "min"), last=("ts", "max"))
    )
    elapsed, cpu = time.perf_counter() - t, time.process_time() - c
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rows": float(len(routes) + len(tiers) + len(kinds) + len(series) + len(failures)),
    }


def _child(which: str, run_dir: Path) -> dict[str, float]:
    """One measurement in a fresh interpreter; ``process_seconds`` includes its start-up
    and imports, ``seconds`` only the work itself."""
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--keep", str(run_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - t
    return result


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pandas as pd

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{platform.machine()} {model}, {os.cpu_count()} vCPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}, "
        f"pandas {pd.__version__}; load average at start {load}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="use (or create) the run record in DIR")
    ap.add_argument("--append", action="store_true", help="append the result to BENCHMARKS.md")
    ap.add_argument("--child", choices=("slogate", "pandas"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = run_slogate if args.child == "slogate" else run_pandas
        result = fn(args.keep)
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="slogate-report-bench-") as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        if not (run_dir / "run.json").exists():
            t = time.perf_counter()
            write_record(run_dir, args.samples)
            from slo.evaluate_run import EvaluateRequest, evaluate_run

            evaluate_run(EvaluateRequest(run_dir=run_dir))
            print(f"wrote {args.samples:,} samples and the verdict in {time.perf_counter() - t:.1f} s")
        machine = _machine()
        ours = [_child("slogate", run_dir) for _ in range(args.repeat)]
        base = [_child("pandas", run_dir) for _ in range(args.repeat)]
    best, pbest = min(ours, key=lambda r: r["seconds"]), min(base, key=lambda r: r["seconds"])
    ratio = pbest["seconds"] / best["seconds"]
    cpu_ratio = pbest["cpu_seconds"] / best["cpu_seconds"]
    ok = best["seconds"] <= BUDGET_S
    runs = {k: ", ".join(f"{r['seconds']:.2f}" for r in v) for k, v in (("ours", ours), ("base", base))}
    header = (
        "| what | how | best wall time | its CPU time | whole process | peak RSS |\n"
        "| --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        f"| all 4 formats, {args.samples:,} samples | slogate `render_all` | "
        f"{best['seconds']:.2f} s (runs: {runs['ours']}) | {best['cpu_seconds']:.2f} s | "
        f"{best['process_seconds']:.2f} s | {best['max_rss_mb']:,.0f} MB |",
        f"| same tables, no rendering | pandas groupby-quantile | {pbest['seconds']:.2f} s "
        f"(runs: {runs['base']}) | {pbest['cpu_seconds']:.2f} s | {pbest['process_seconds']:.2f} s "
        f"| {pbest['max_rss_mb']:,.0f} MB |",
    ]
    verdict = f"budget {BUDGET_S:g} s wall: {'met' if ok else 'EXCEEDED'}"
    summary = f"pandas / slogate = {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU; {verdict}"
    print(f"machine: {machine}\n{header}\n" + "\n".join(lines))
    print(f"{summary}; sizes: html {best['html_bytes'] / 1e3:,.0f} kB, md {best['md_bytes'] / 1e3:,.0f} kB")
    if args.append:
        bench = ROOT / "BENCHMARKS.md"
        with bench.open("a", encoding="utf-8") as f:
            if "## Reports" not in bench.read_text(encoding="utf-8"):
                f.write(
                    "\n## Reports\n\n`benchmarks/report_10m.py`: every report format (HTML, "
                    "Markdown, JSON, JUnit) for a 10-million-sample run record, against a naive "
                    "pandas baseline that only computes the same tables. The machine is shared, so "
                    "wall times vary run to run; the CPU time (summed over threads) varies less.\n"
                )
            f.write(
                f"\n{time.strftime('%Y-%m-%d')} · {machine}\n\n{header}\n"
                + "\n".join(lines)
                + f"\n\n{summary}.\n"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
