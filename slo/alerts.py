"""Prometheus recording and alerting rules from an SLO file (pure: SLO in, YAML text out).

The SRE Workbook's multi-window, multi-burn-rate alerts (ch. 5, "Alerting on SLOs",
section 6) for each ratio objective, with the same rules, thresholds and window scaling
that :mod:`slo.burn` replays over a run, so ``slogate alerts`` and ``slogate evaluate`` can
never disagree on when an alert fires:

========  =========  ===========  ============
severity  burn rate  long window  short window
========  =========  ===========  ============
page      14.4       1 h          5 m
page      6          6 h          30 m
ticket    1          3 d          6 h
========  =========  ===========  ============

(burn rates for a 30-day window; for another window the budget share is kept:
``share x window / long window``). For a run of ``D < 1 h`` every window is multiplied by
``D / 1 h`` and clipped to ``D`` (:func:`slo.burn.scaled_windows`); a window is never shorter
than four scrape intervals, so ``rate()`` always has samples to work on.

What becomes a rule: ``availability`` and ``error_rate`` objectives with ``alerts: true``
over HTTP samples (``select.kind`` absent or ``http``), from the SLO file's ``cross_check``
metric names: bad events are the request counter's series whose status label is 5xx, all
events are the counter's series, less the ``ignore_operations`` (the scrapes of /metrics).
``select.tier`` becomes a matcher on a ``tier`` label. Objectives that the target's counter
cannot express (latency percentiles, WebSocket drops, a ``select.name`` or ``select.tenant``)
are listed in the file's header with the reason, never silently dropped.

Example::

    rules = build_rules(load_slo("slo/catalog/default.yaml"), duration_s=60.0)
    rules.rules_yaml()          # -> promtool check rules
    rules.unit_test_yaml("slogate-alerts.rules.yml")   # -> promtool test rules
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

import yaml

from slo.burn import WORKBOOK_RULES, AlertRule, scaled_windows
from slo.spec.load import SloSpec
from slo.spec.model import (
    AvailabilityObjective,
    CrossCheckConfig,
    ErrorRateObjective,
    Objective,
    WsDropRateObjective,
)

__all__ = ["AlertPlan", "ObjectiveAlerts", "build_rules", "prom_duration"]

RECORD_PREFIX: Final = "slogate:slo_errors:ratio_rate"
ALERT_PREFIX: Final = "SLOBurnRate_"


def prom_duration(seconds: float) -> str:
    """``3600`` -> ``1h``, ``3.75`` -> ``3s750ms``: a Prometheus duration, whole milliseconds."""
    ms = max(1, round(seconds * 1000))
    out = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
                       ("ms", 1)):
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)


def _glob_regex(pattern: str) -> str:
    """A shell glob as an RE2 regex (Prometheus anchors label regexes itself)."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _matchers(matchers: list[str]) -> str:
    return "{" + ",".join(matchers) + "}" if matchers else ""


@dataclass(frozen=True, slots=True)
class WindowPair:
    """One Workbook rule with its windows for this run length."""

    rule: AlertRule
    long_s: float
    short_s: float
    threshold: float


@dataclass(frozen=True, slots=True)
class ObjectiveAlerts:
    """Rules for one objective: its selectors, error budget and window pairs."""

    name: str
    total_selector: str
    bad_selector: str
    allowed_bad_ratio: float
    pairs: tuple[WindowPair, ...]
    counter: str
    status_label: str
    example_labels: dict[str, str]  # a series of the counter that the selectors keep

    def series(self, status: int) -> str:
        """An input series for the unit test: the example labels with this status."""
        labels = {**self.example_labels, self.status_label: str(status)}
        return self.counter + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"

    @property
    def alert_name(self) -> str:
        return ALERT_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", self.name)

    def windows(self) -> list[float]:
        return sorted({w for p in self.pairs for w in (p.long_s, p.short_s)})

    def record(self, window_s: float) -> str:
        return RECORD_PREFIX + prom_duration(window_s)

    def annotations(self, pair: WindowPair) -> dict[str, str]:
        return {
            "summary": f"SLO {self.name}: error budget burning at >= {pair.threshold:g}x",
            "description": (
                f"{pair.rule.severity}: the error ratio of {self.name} over both "
                f"{prom_duration(pair.long_s)} and {prom_duration(pair.short_s)} is at least "
                f"{pair.threshold:g} x its budget {self.allowed_bad_ratio:g} (rule "
                f"{pair.rule.name}, SRE Workbook ch. 5)"),
        }


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """Every objective's rules plus the objectives that have none (with the reason)."""

    source: str
    duration_s: float | None
    objectives: tuple[ObjectiveAlerts, ...]
    skipped: tuple[tuple[str, str], ...]
    interval_s: float | None  # group evaluation interval for scaled windows

    def rules_yaml(self) -> str:
        """The rule file (``promtool check rules``)."""
        groups = []
        for o in self.objectives:
            group: dict[str, Any] = {"name": f"slogate-slo-{o.name}"}
            if self.interval_s is not None:
                group["interval"] = prom_duration(self.interval_s)
            group["rules"] = []
            for w in o.windows():
                d = prom_duration(w)
                group["rules"].append({
                    "record": o.record(w),
                    "expr": f"sum(rate({o.bad_selector}[{d}])) / sum(rate({o.total_selector}[{d}]))",
                    "labels": {"slo": o.name},
                })
            for p in o.pairs:
                bound = f"({p.threshold:g} * {o.allowed_bad_ratio:g})"
                group["rules"].append({
                    "alert": o.alert_name,
                    "expr": (f'{o.record(p.long_s)}{{slo="{o.name}"}} >= {bound} and '
                             f'{o.record(p.short_s)}{{slo="{o.name}"}} >= {bound}'),
                    "labels": {"severity": p.rule.severity, "slo": o.name, "rule": p.rule.name},
                    "annotations": o.annotations(p),
                })
            groups.append(group)
        return self._header() + yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000)

    def _header(self) -> str:
        scale = ("Workbook windows (no --duration)" if self.duration_s is None
                 else f"windows scaled for a run of {prom_duration(self.duration_s)}")
        lines = [f"# Generated by `slogate alerts` from {self.source}: {scale}.",
                 "# Multi-window, multi-burn-rate alerts (SRE Workbook ch. 5); see docs/slo.md."]
        lines += [f"# no rule for objective {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines) + "\n"

    def unit_test_yaml(self, rule_file: str) -> str:
        """A ``promtool test rules`` file: for each objective, a 50 % 5xx rate fires exactly
        the rules whose threshold it reaches, and a clean series fires none."""
        longest = max((p.long_s for o in self.objectives for p in o.pairs), default=60.0)
        step = 1.0 if longest <= 3600 else 60.0  # samples: rate() needs several per window
        # Rules are evaluated at every evaluation interval up to eval_time: for days of
        # Workbook windows one evaluation an hour keeps promtool fast; eval_time is one.
        every = self.interval_s or (3600.0 if longest > 3600 else step)
        eval_s = math.ceil((longest + 10 * step) / every) * every
        points = int(eval_s / step) + 5
        tests = []
        for o in self.objectives:
            ok, bad = o.series(200), o.series(500)
            firing = [p for p in o.pairs if p.threshold * o.allowed_bad_ratio <= 0.5]
            exp = [{"exp_labels": {"severity": p.rule.severity, "slo": o.name,
                                   "rule": p.rule.name},
                    "exp_annotations": o.annotations(p)} for p in firing]
            for title, series, expected in (("half the requests fail", [ok, bad], exp),
                                            ("no request fails", [ok], [])):
                tests.append({
                    "name": f"{o.name}: {title}",
                    "interval": prom_duration(step),
                    "input_series": [{"series": s, "values": f"0+10x{points}"}
                                     for s in series],
                    "alert_rule_test": [{"eval_time": prom_duration(eval_s),
                                         "alertname": o.alert_name, "exp_alerts": expected}],
                })
        doc = {"rule_files": [rule_file],
               "evaluation_interval": prom_duration(every),
               "tests": tests}
        return yaml.safe_dump(doc, sort_keys=False, width=1000)


def _skip_reason(o: Objective) -> str | None:
    if not isinstance(o, AvailabilityObjective | ErrorRateObjective) or isinstance(
            o, WsDropRateObjective):
        return (f"a {o.sli} objective is not a ratio of the target's request counter "
                "(burn-rate alerts need good/total events)")
    if not o.alerts:
        return "alerts: false"
    kinds = o.select.patterns("kind")
    if kinds is not None and kinds != ("http",):
        return f"select.kind {list(kinds)}: only HTTP requests are counted by the target"
    for field in ("name", "tenant"):
        if o.select.patterns(field) is not None:
            return f"select.{field} has no counterpart among the counter's labels"
    return None


def _excluded(config: CrossCheckConfig) -> list[str]:
    """Matchers dropping ``ignore_operations`` when ``operation`` is ``"{A} {B}"``: the
    second label (the route) must not match the pattern's second word."""
    fields = re.fullmatch(r"\{(\w+)\} \{(\w+)\}", config.operation)
    if fields is None:
        return []
    out = []
    for pattern in config.ignore_operations:
        words = pattern.split(" ", 1)
        if len(words) == 2:
            out.append(f'{fields.group(2)}!~"{_glob_regex(words[1])}"')
    return out


def _example_labels(config: CrossCheckConfig, tier: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    fields = re.findall(r"\{(\w+)\}", config.operation)
    values = iter(("GET", "/v1/example", "example"))
    for f in fields:
        labels[f] = next(values, "x")
    if tier is not None:
        labels["tier"] = tier
    return labels


def _objective(o: AvailabilityObjective | ErrorRateObjective, config: CrossCheckConfig,
               duration_s: float | None, min_window_s: float) -> ObjectiveAlerts:
    base = _excluded(config)
    tiers = o.select.patterns("tier")
    if tiers is not None:
        base.append(f'tier=~"{"|".join(_glob_regex(t) for t in tiers)}"')
    bad = [*base, f'{config.status_label}=~"5.."']
    pairs = []
    for rule in WORKBOOK_RULES:
        if duration_s is None:
            long_s, short_s = rule.long_window_s, rule.short_window_s
        else:
            long_s, short_s, _, _ = scaled_windows(rule, duration_s)
        pairs.append(WindowPair(rule, max(long_s, min_window_s), max(short_s, min_window_s),
                                round(rule.threshold(o.window), 6)))
    example_tier = None if tiers is None else tiers[0].replace("*", "x").replace("?", "x")
    return ObjectiveAlerts(
        name=o.name,
        total_selector=config.request_counter + _matchers(base),
        bad_selector=config.request_counter + _matchers(bad),
        allowed_bad_ratio=round(o.allowed_bad_ratio, 9),
        pairs=tuple(pairs),
        counter=config.request_counter,
        status_label=config.status_label,
        example_labels=_example_labels(config, example_tier),
    )


def build_rules(spec: SloSpec, *, duration_s: float | None = None,
                scrape_interval_s: float = 1.0) -> AlertPlan:
    """Rules for every ratio objective of ``spec``; ``duration_s`` scales the windows for a
    run of that length (as ``slogate evaluate`` does), None keeps the Workbook's."""
    objectives, skipped = [], []
    for o in spec.objectives:
        why = _skip_reason(o)
        if why is not None:
            skipped.append((o.name, why))
            continue
        assert isinstance(o, AvailabilityObjective | ErrorRateObjective)
        objectives.append(_objective(o, spec.cross_check, duration_s, 4 * scrape_interval_s))
    interval = None
    if duration_s is not None and duration_s < 3600:
        interval = scrape_interval_s
    return AlertPlan(spec.source, duration_s, tuple(objectives), tuple(skipped), interval)
