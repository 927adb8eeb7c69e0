"""``slogate alerts SLO_FILE [--format prometheus] [--out DIR] [--duration D]``.

Writes Prometheus recording and alerting rules for each availability, error_rate and latency
percentile objective of an SLO file (a latency percentile as the share of requests slower
than the histogram bucket at its threshold): the SRE Workbook's multi-window,
multi-burn-rate alerts (page: 14.4x over 1h and 5m, 6x over 6h and 30m; ticket: 1x over 3d
and 6h), for the metric names of the file's ``cross_check`` section (the reference target's
by default). Objectives the target's metrics cannot express are listed, with the reason, in
the rule file's header. Two files in DIR:

  slogate-alerts.rules.yml   the rules (promtool check rules slogate-alerts.rules.yml)
  slogate-alerts.test.yml    their unit test (promtool test rules slogate-alerts.test.yml)

Without --duration the windows are the Workbook's, for a production Prometheus. With
--duration they are scaled for a load-test run of that length exactly as 'slogate evaluate'
scales its replay (docs/slo.md), never shorter than four scrape intervals.

Exit codes: 0 written · 2 bad SLO file or flag, or no objective can become a rule (the
message says why for each) · 3 the files could not be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from foundation.errors import EXIT_OK, ConfigError, ReportError, UsageError
from slogate.commands._terminal import positive_duration

__all__ = ["RULES_FILE", "TEST_FILE", "add_parser", "run", "write_alerts"]

RULES_FILE = "slogate-alerts.rules.yml"
TEST_FILE = "slogate-alerts.test.yml"


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "alerts",
        help="Prometheus burn-rate alerting rules (and their promtool test) from an SLO file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("slo", metavar="SLO_FILE", type=Path, help="SLO file (docs/slo.md)")
    parser.add_argument("--format", choices=("prometheus",), default="prometheus",
                        help="rule format (default and only: prometheus)")
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                        help="directory for the two files (default: the current directory)")
    parser.add_argument("--duration", metavar="DURATION",
                        help="scale the windows for a run this long, e.g. 60s or 10m "
                        "(default: the Workbook's windows)")
    parser.add_argument("--scrape-interval", type=float, default=1.0, metavar="SECONDS",
                        help="the Prometheus scrape interval; windows are at least 4 of them "
                        "(default: 1, slogate's local Prometheus)")
    return parser


def write_alerts(slo: Path, out: Path, duration_s: float | None,
                 scrape_interval_s: float = 1.0) -> tuple[Path, Path]:
    """Build the rules and their unit test from ``slo`` and write both into ``out``."""
    from slo.alerts import build_rules
    from slo.spec.load import load_slo

    plan = build_rules(load_slo(slo), duration_s=duration_s,
                       scrape_interval_s=scrape_interval_s)
    if not plan.objectives:
        reasons = "; ".join(f"{name}: {why}" for name, why in plan.skipped) or "no objectives"
        raise ConfigError(f"no objective can become a burn-rate alert ({reasons}); add an "
                          "availability, error_rate or latency percentile objective",
                          path=str(slo))
    rules, test = out / RULES_FILE, out / TEST_FILE
    try:
        out.mkdir(parents=True, exist_ok=True)
        rules.write_text(plan.rules_yaml(), encoding="utf-8")
        test.write_text(plan.unit_test_yaml(RULES_FILE), encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the rules into {out}: {exc.strerror}; pick another "
                          "--out") from exc
    return rules, test


def run(args: argparse.Namespace) -> int:
    duration_s = positive_duration("--duration", args.duration)
    if args.scrape_interval <= 0:
        raise UsageError("--scrape-interval must be more than 0 seconds")
    rules, test = write_alerts(args.slo, args.out, duration_s, args.scrape_interval)
    print(f"rules: {rules}\nunit test: {test}\n"
          f"check: promtool check rules {rules} && promtool test rules {test}")
    return EXIT_OK
