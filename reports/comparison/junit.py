"""``comparison.junit.xml``: one test case per compared metric and per SLO objective.

Mapping (CI test reporters show it without opening anything else):

============================ ==========================================================
metric ``worse`` (gated)     ``<failure type="regression">``: the change, its interval,
                             the confidence and the tolerance in the message
metric ``worse`` (not gated) passed, the change in ``system-out``
metric ``better``/``same``   passed, the change in ``system-out``
metric ``no_data``           ``<skipped>`` with the reason (too few samples)
objective ``worse``          ``<failure type="slo_regression">`` (passed before, fails now)
============================ ==========================================================

No wall-clock time is written (``timestamp`` is the candidate's start), so the file diffs
clean between renderings.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from reports.comparison.text import METRIC_TITLE, change_text, failure_message, value
from slo.compare.model import Change, Comparison, MetricComparison, ObjectiveComparison

__all__ = ["render_comparison_junit"]


def _metric_case(suite: ET.Element, m: MetricComparison) -> str:
    op = m.operation
    name = f"{op.name}{f' [{op.tier}]' if op.tier else ''} {METRIC_TITLE[m.metric]}"
    case = ET.SubElement(suite, "testcase", classname=f"slogate.compare.{op.kind}", name=name,
                         time="0")
    if m.change is Change.NO_DATA:
        ET.SubElement(case, "skipped", message=f"not compared: {m.reason}")
        return "skipped"
    if m.change is Change.WORSE and m.gated:
        failure = ET.SubElement(case, "failure", type="regression", message=failure_message(m))
        failure.text = f"method: {m.method}; samples {m.n_baseline:,} baseline, {m.n_candidate:,} candidate"
        return "failure"
    out = ET.SubElement(case, "system-out")
    out.text = (f"{m.change.value}: {value(m.baseline, m.unit)} -> {value(m.candidate, m.unit)}, "
                f"{change_text(m)}; tolerance {m.tolerance_text}")
    return "passed"


def _objective_case(suite: ET.Element, o: ObjectiveComparison) -> str:
    case = ET.SubElement(suite, "testcase", classname="slogate.compare.slo", name=o.name, time="0")
    text = (f"{value(o.baseline, o.unit)} ({o.baseline_status}) -> "
            f"{value(o.candidate, o.unit)} ({o.candidate_status}), threshold {o.threshold_text}")
    if o.change is Change.WORSE:
        ET.SubElement(case, "failure", type="slo_regression", message="objective now fails: " + text)
        return "failure"
    ET.SubElement(case, "system-out").text = f"{o.change.value}: {text}"
    return "passed"


def render_comparison_junit(c: Comparison) -> str:
    """The comparison as a JUnit XML document (one ``testsuite`` in ``testsuites``)."""
    root = ET.Element("testsuites", name="slogate compare")
    started = dt.datetime.fromtimestamp(c.candidate.started_at, tz=dt.UTC)
    suite = ET.SubElement(
        root, "testsuite", name=f"slogate compare {c.candidate.release or c.candidate.run_id} "
        f"vs {c.baseline.release or c.baseline.run_id}",
        timestamp=started.strftime("%Y-%m-%dT%H:%M:%S"), hostname="slogate", time="0",
    )
    props = ET.SubElement(suite, "properties")
    for key, val in (("outcome", c.outcome.value), ("baseline", c.baseline.run_id),
                     ("candidate", c.candidate.run_id), ("tests", str(c.tests)),
                     ("per_test_confidence", f"{c.per_test_confidence:.6g}"),
                     *((f"mismatch.{m.field}", f"{m.baseline} vs {m.candidate}") for m in c.mismatches)):
        ET.SubElement(props, "property", name=key, value=val)
    results = [_metric_case(suite, m) for m in c.metrics]
    results += [_objective_case(suite, o) for o in c.objectives]
    for element in (root, suite):
        element.set("tests", str(len(results)))
        element.set("failures", str(results.count("failure")))
        element.set("errors", "0")
        element.set("skipped", str(results.count("skipped")))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
