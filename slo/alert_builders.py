"""One burn-rate rule builder per kind of objective (pure): objective -> ratio expressions.

Every builder turns an objective into a *ratio SLI* -- a PromQL rate of bad events over a
rate of all events, with the error budget as the allowed bad share -- or into the reason it
cannot (listed in the rule file's header, never dropped silently). :data:`BUILDERS` maps an
objective's ``sli`` to its builder; :mod:`slo.alerts` turns the ratios into the Workbook's
multi-window rules and their unit test. (Issue 15's SLI registry is to absorb this table.)

- ``availability`` / ``error_rate``: bad = the request counter's 5xx series, all = the
  counter's series.
- ``latency`` (a percentile ``p`` under ``threshold_ms``) over HTTP: bad = requests slower
  than the threshold = ``H_count - H_bucket{le=B}``, all = ``H_count``, budget ``1 - p/100``
  (p95: 5 % may be slower) -- the SRE Workbook's latency SLI, "the proportion of sufficiently
  fast requests" (ch. 2, "Implementing SLOs"), under the same alerts (ch. 5). ``B`` is the
  largest bucket bound ``<= threshold`` the histogram has
  (``CrossCheckConfig.histogram_buckets``); when ``B < threshold`` the requests between
  the two count as slow, so the alert is conservative (fires no later than an exact one),
  and the header and the alert's ``note`` annotation say so. A histogram whose bounds are
  unknown gets no rule (header says why). ``slogate evaluate`` judges the percentile of the
  client's samples and has no burn replay for latency today; a replay would count a request
  as bad when its own latency is over ``threshold_ms`` (per request, exact) while the rule
  side uses the bucket bound ``B``.
- ``ws_drop_rate``: no rule. The client counts as a drop every close it did not ask for,
  per session opened; the reference target counts only the closes *it* sends
  (``slogate_ws_closes_total{tier,code}``: 4400, 4401, 4403, 4408, 4429, 1013) and no
  sessions opened (``slogate_ws_sessions`` is a gauge of open ones), so neither the bad
  events nor the total are on the server: lost links (1006) and shutdowns (1001/1012) that
  the client sees never reach a server counter.

Selections (shared by the HTTP builders): ``select.kind`` absent or ``http``;
``select.name`` -> one matcher per label of ``cross_check.operation`` (the cross-check's
own mapping, :func:`slo.sources.reconcile.operation_labels`); ``select.tier`` -> ``tier``;
``select.tenant`` -> the tenant label (``CrossCheckConfig.tenant_label_name``). The reference
target labels only its first ``metrics_tenant_label_limit`` tenants (20) by id and every
later one ``other``: a capped tenant's matcher selects nothing, so its rule never fires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from slo.burn import WORKBOOK_RULES, AlertRule, scaled_windows
from slo.sources.reconcile import glob_regex, operation_labels
from slo.spec.model import (
    AvailabilityObjective,
    CrossCheckConfig,
    ErrorRateObjective,
    LatencyObjective,
    Objective,
    WindowedObjective,
    WsDropRateObjective,
)

__all__ = ["BUILDERS", "WINDOW", "BuildContext", "ObjectiveAlerts", "TestSeries", "WindowPair",
           "build_objective", "prom_duration"]

WINDOW: Final = "<window>"
"""Placeholder for the range in an objective's rate expressions (``[<window>]``)."""

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


@dataclass(frozen=True, slots=True)
class WindowPair:
    """One Workbook rule with its windows for this run length."""

    rule: AlertRule
    long_s: float
    short_s: float
    threshold: float


@dataclass(frozen=True, slots=True)
class TestSeries:
    """Input of the ``promtool test rules`` cases: ``(series, increase per step)`` pairs for a
    case where ``bad_share`` of the events are bad (``firing``) and one where none are."""

    firing: tuple[tuple[str, int], ...]
    quiet: tuple[tuple[str, int], ...]
    bad_share: float
    titles: tuple[str, str] = ("half the requests fail", "no request fails")


@dataclass(frozen=True, slots=True)
class ObjectiveAlerts:
    """Rules for one objective: its bad/total rates, error budget and window pairs.

    ``bad_rate``/``total_rate`` are PromQL with :data:`WINDOW` for the range;
    ``what`` names the ratio in the annotations ("the error ratio"); ``notes`` go into the
    rule file's header and the alerts' ``note`` annotation.
    """

    name: str
    bad_rate: str
    total_rate: str
    allowed_bad_ratio: float
    pairs: tuple[WindowPair, ...]
    test: TestSeries
    what: str = "the error ratio of"
    notes: tuple[str, ...] = ()

    @property
    def alert_name(self) -> str:
        return "SLOBurnRate_" + re.sub(r"[^A-Za-z0-9_]", "_", self.name)

    def windows(self) -> list[float]:
        return sorted({w for p in self.pairs for w in (p.long_s, p.short_s)})

    def ratio_expr(self, window_s: float) -> str:
        d = f"[{prom_duration(window_s)}]"
        return f"{self.bad_rate} / {self.total_rate}".replace(f"[{WINDOW}]", d)

    def annotations(self, pair: WindowPair) -> dict[str, str]:
        out = {
            "summary": f"SLO {self.name}: error budget burning at >= {pair.threshold:g}x",
            "description": (
                f"{pair.rule.severity}: {self.what} {self.name} over both "
                f"{prom_duration(pair.long_s)} and {prom_duration(pair.short_s)} is at least "
                f"{pair.threshold:g} x its budget {self.allowed_bad_ratio:g} (rule "
                f"{pair.rule.name}, SRE Workbook ch. 5)"),
        }
        if self.notes:
            out["note"] = " ".join(self.notes)
        return out


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every builder needs besides the objective."""

    config: CrossCheckConfig
    duration_s: float | None  # None: the Workbook's windows
    min_window_s: float  # four scrape intervals

    def pairs(self, window_s: float) -> tuple[WindowPair, ...]:
        """The Workbook rules' windows for this run, as :mod:`slo.burn` scales them."""
        out = []
        for rule in WORKBOOK_RULES:
            if self.duration_s is None:
                long_s, short_s = rule.long_window_s, rule.short_window_s
            else:
                long_s, short_s, _, _ = scaled_windows(rule, self.duration_s)
            out.append(WindowPair(rule, max(long_s, self.min_window_s),
                                  max(short_s, self.min_window_s),
                                  round(rule.threshold(window_s), 6)))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _Selection:
    """Label matchers of the selected series, and labels of one series they keep."""

    matchers: list[str]
    example: dict[str, str] = field(default_factory=dict)

    def selector(self, metric: str, *extra: str) -> str:
        matchers = [*self.matchers, *extra]
        return metric + ("{" + ",".join(matchers) + "}" if matchers else "")

    def series(self, metric: str, **labels: str) -> str:
        merged = {**self.example, **labels}
        return metric + "{" + ",".join(f'{k}="{v}"' for k, v in merged.items()) + "}"


def _quote(regex: str) -> str:
    """A regex inside a PromQL double-quoted string (backslashes and quotes escaped)."""
    return regex.replace("\\", "\\\\").replace('"', '\\"')


def _example(glob: str) -> str:
    return glob.replace("*", "x").replace("?", "x").replace("{}", "{id}")


def _excluded(config: CrossCheckConfig) -> list[str]:
    """Matchers dropping ``ignore_operations``: the template's last label (the route) must
    not match the pattern's (one selector cannot negate a method-and-route pair)."""
    fields = re.findall(r"\{(\w+)\}", config.operation)
    out = []
    for pattern in config.ignore_operations:
        labels = operation_labels(pattern, config.operation)
        if labels is not None and len(fields) > 1:
            out.append(f'{fields[-1]}!~"{_quote(glob_regex(labels[fields[-1]]))}"')
    return out


def _name_labels(names: tuple[str, ...], config: CrossCheckConfig) -> dict[str, list[str]] | str:
    """``select.name`` -> the globs of each label, or why no single selector can hold it."""
    split = [operation_labels(n, config.operation) for n in names]
    bad = [n for n, labels in zip(names, split, strict=True) if labels is None]
    if bad or not split:
        return (f"select.name {bad!r} does not split into the labels of cross_check.operation "
                f"{config.operation!r}")
    fields = list(split[0] or {})
    per_field = {f: list(dict.fromkeys(s[f] for s in split if s is not None)) for f in fields}
    if sum(len(v) > 1 for v in per_field.values()) > 1:
        return (f"select.name {list(names)} differs in more than one label; one selector "
                "cannot hold that union: give one objective per operation")
    return per_field


def _select(o: WindowedObjective, config: CrossCheckConfig) -> _Selection | str:
    """The HTTP series ``o.select`` keeps, or why the target's metrics cannot say."""
    kinds = o.select.patterns("kind")
    if kinds is not None and kinds != ("http",):
        return f"select.kind {list(kinds)}: the target's HTTP metrics count HTTP requests only"
    fields = re.findall(r"\{(\w+)\}", config.operation)
    values = iter(("GET", "/v1/example", "example"))
    example = {f: next(values, "x") for f in fields}
    matchers = _excluded(config)
    names = o.select.patterns("name")
    if names is not None:
        labels = _name_labels(names, config)
        if isinstance(labels, str):
            return labels
        for label, globs in labels.items():
            matchers.append(_matcher(label, globs))
            example[label] = _example(globs[0])
    for column, name in (("tier", "tier"), ("tenant", config.tenant_label_name())):
        chosen = o.select.patterns(column)
        if chosen is None:
            continue
        if name is None:
            return (f"select.{column}: the counter {config.request_counter} has no known "
                    f"{column} label (set cross_check.tenant_label)")
        matchers.append(_matcher(name, chosen))
        example[name] = _example(chosen[0])
    return _Selection(matchers, example)


def _matcher(label: str, globs: list[str] | tuple[str, ...]) -> str:
    """``label=~"a|b"``: any of the globs."""
    return f'{label}=~"{_quote("|".join(glob_regex(g) for g in globs))}"'


def _per_note(o: WindowedObjective) -> tuple[str, ...]:
    if o.per is None:
        return ()
    return (f"per: {o.per} is judged per group by slogate evaluate; this rule sums all "
            "groups",)


def ratio_rules(o: AvailabilityObjective | ErrorRateObjective, ctx: BuildContext) -> ObjectiveAlerts | str:
    """Availability / error rate: 5xx requests over all requests of the request counter."""
    sel = _select(o, ctx.config)
    if isinstance(sel, str):
        return sel
    counter, status = ctx.config.request_counter, ctx.config.status_label
    five_xx = f'{status}=~"5.."'
    return ObjectiveAlerts(
        name=o.name,
        bad_rate=f"sum(rate({sel.selector(counter, five_xx)}[{WINDOW}]))",
        total_rate=f"sum(rate({sel.selector(counter)}[{WINDOW}]))",
        allowed_bad_ratio=round(o.allowed_bad_ratio, 9),
        pairs=ctx.pairs(o.window),
        test=TestSeries(firing=((sel.series(counter, **{status: "200"}), 10),
                                (sel.series(counter, **{status: "500"}), 10)),
                        quiet=((sel.series(counter, **{status: "200"}), 10),),
                        bad_share=0.5),
        notes=_per_note(o),
    )


def _le_matcher(bound: float) -> str:
    """``le`` as exposed: ``0.284904``; a whole number both as ``1`` and ``1.0`` (clients
    differ)."""
    text = repr(bound)
    if text.endswith(".0"):
        return f'le=~"{text[:-2]}(\\\\.0)?"'
    return f'le="{text}"'


def latency_rules(o: LatencyObjective, ctx: BuildContext) -> ObjectiveAlerts | str:
    """A latency percentile as the share of requests slower than the threshold (module
    docstring: the bucket bound, budget ``1 - p/100``)."""
    if o.percentile is None:
        return (f"the {o.aggregate} latency is not a share of requests over a threshold; "
                "burn-rate alerts need a percentile")
    if o.comparison not in ("<", "<="):
        return f"comparison {o.comparison!r}: only an upper bound on latency has a budget"
    sel = _select(o, ctx.config)
    if isinstance(sel, str):
        return sel
    hist = ctx.config.latency_histogram
    buckets = ctx.config.histogram_buckets()
    if buckets is None:
        return (f"the bucket bounds of {hist} are unknown: give cross_check.latency_buckets "
                "(its le values, seconds) so a bucket at the threshold can be chosen")
    threshold_s = o.threshold_ms / 1000.0
    below = [b for b in buckets if b <= threshold_s * (1 + 1e-9)]
    if not below:
        return (f"{hist} has no bucket at or below {o.threshold_ms:g} ms (smallest le "
                f"{buckets[0]:g} s)")
    bound = below[-1]
    notes = list(_per_note(o))
    if bound < threshold_s * (1 - 1e-9):
        notes.insert(0, f"slow = over bucket le={bound!r} s, below the {o.threshold_ms:g} ms "
                        f"threshold: requests in between count as slow (conservative).")
    if o.corrected:
        notes.append("The server times requests without the client's queueing "
                     "(coordinated omission is not corrected).")
    extra = (f'{ctx.config.status_label}!~"5.."',) if o.ok_only else ()
    count, bucket = f"{hist}_count", f"{hist}_bucket"
    total = f"sum(rate({sel.selector(count, *extra)}[{WINDOW}]))"
    le = _le_matcher(bound)
    series = {ctx.config.status_label: "200"}
    exposed = repr(bound).removesuffix(".0")  # test the Go/Java spelling ("1") of a whole le
    return ObjectiveAlerts(
        name=o.name,
        bad_rate=f"({total} - sum(rate({sel.selector(bucket, *extra, le)}[{WINDOW}])))",
        total_rate=total,
        allowed_bad_ratio=round(1.0 - o.percentile / 100.0, 9),
        pairs=ctx.pairs(o.window),
        test=TestSeries(
            firing=((sel.series(count, **series), 10),
                    (sel.series(bucket, **series, le=exposed), 5)),
            quiet=((sel.series(count, **series), 10),
                   (sel.series(bucket, **series, le=exposed), 10)),
            bad_share=0.5, titles=("half the requests are slow", "no request is slow")),
        what=f"the share of requests slower than {bound * 1000:g} ms in",
        notes=tuple(notes),
    )


def ws_drop_reason(o: WsDropRateObjective, ctx: BuildContext) -> ObjectiveAlerts | str:
    """No rule: the server counts neither the drops the client sees nor sessions opened."""
    return ("the server cannot express WebSocket drops per session: the client counts every "
            "close it did not ask for (lost links 1006, shutdowns 1001/1012 included) per "
            "session opened, while the target counts only the closes it sends "
            "(slogate_ws_closes_total{tier,code}: 4400/4401/4403/4408/4429/1013) and no "
            "sessions opened (slogate_ws_sessions is a gauge); cross_check names no "
            "WebSocket metrics for a foreign target")


BUILDERS: Final[dict[str, Callable[[Any, BuildContext], ObjectiveAlerts | str]]] = {
    "availability": ratio_rules,
    "error_rate": ratio_rules,
    "latency": latency_rules,
    "ttft": latency_rules,
    "ws_drop_rate": ws_drop_reason,
}
"""``sli`` -> builder; an SLI missing here gets the "not a share of events" reason."""


def build_objective(o: Objective, ctx: BuildContext) -> ObjectiveAlerts | str:
    """The rules of one objective, or why it has none."""
    builder = BUILDERS.get(o.sli)
    if builder is None:
        return (f"a {o.sli} objective is not a share of good/total events (burn-rate alerts "
                "need one)")
    if isinstance(o, WindowedObjective) and not o.alerts:
        return "alerts: false"
    return builder(o, ctx)
