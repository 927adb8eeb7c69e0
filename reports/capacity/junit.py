"""``capacity.junit.xml``: one test case per step, and one for the answer.

A failing step is *expected* in a search (it is how the limit is found), so steps never
fail the suite: a ``fail`` step passes with the broken objective in ``system-out``, an
inconclusive one is ``<skipped>``. The answer case fails when no capacity was established
(capacity 0, ``--require`` not met, or not converged below it) and is skipped when the
search was inconclusive.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from reports.capacity.text import level_text
from slo.capacity import CapacityResult

__all__ = ["render_capacity_junit"]


def render_capacity_junit(r: CapacityResult) -> str:
    root = ET.Element("testsuites", name="slogate capacity")
    suite = ET.SubElement(root, "testsuite", name=f"capacity ({r.vary})",
                          timestamp=dt.datetime.fromtimestamp(r.started_at, dt.UTC)
                          .strftime("%Y-%m-%dT%H:%M:%S"))
    counts = {"failures": 0, "skipped": 0}
    for s in r.steps:
        case = ET.SubElement(suite, "testcase", classname="slogate.capacity.step",
                             name=f"step {s.index}: {level_text(s.level, r.unit)} ({s.phase})",
                             time=f"{s.wall_s:.1f}")
        if s.outcome == "inconclusive":
            ET.SubElement(case, "skipped", message=s.reason)
            counts["skipped"] += 1
        else:
            ET.SubElement(case, "system-out").text = f"{s.outcome}: {s.reason}"
    answer = ET.SubElement(suite, "testcase", classname="slogate.capacity", name="capacity",
                           time=f"{r.wall_s:.1f}")
    if r.conclusion == "inconclusive":
        ET.SubElement(answer, "skipped", message=r.sentence)
        counts["skipped"] += 1
    elif not r.passed():
        ET.SubElement(answer, "failure", type="capacity", message=r.sentence)
        counts["failures"] += 1
    else:
        ET.SubElement(answer, "system-out").text = r.sentence
    tests = str(len(r.steps) + 1)
    for el in (root, suite):
        el.set("tests", tests)
        el.set("failures", str(counts["failures"]))
        el.set("errors", "0")
    suite.set("skipped", str(counts["skipped"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
