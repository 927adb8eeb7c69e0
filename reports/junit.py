"""JUnit XML: one test case per SLO objective and one per readiness claim.

CI systems (GitHub test reporters, GitLab, Jenkins) show JUnit natively, so each case says
what a person needs without opening anything else: the message of a failure carries the
measured value and the threshold.

Mapping, and why:

====================== ==================================================================
objective ``pass``     passed
objective ``warn``     passed, with the warning in ``system-out`` (the gate passes on warn)
objective ``fail``     ``<failure type="fail">``
``insufficient_data``  ``<failure type="insufficient_data">``: missing evidence must never
                       look green or neutral (a skipped case is easy to ignore, and the gate
                       exits 3 on it); an *optional* objective without data is ``skipped``,
                       since the verdict ignores it too
claim ``passed``       passed
claim ``failed``       ``<failure type="claim_failed">``
claim ``not_verified`` ``<skipped>`` with the reason: nothing contradicted the claim, nothing
                       proved it; the score already counts it as 0 and the decision as NO-GO
                       when it is critical; the message names what would verify it
fault recovered        passed, "recovered in X s" and the budget in ``system-out``
fault not recovered    ``<failure type="not_recovered">``
``abort_on`` fired     ``<failure type="abort_on">`` in the SLO suite, with the reason
====================== ==================================================================

No wall-clock time is written (``timestamp`` is the run's start), so the file diffs clean.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from reports import fmt
from reports.faults import FaultRow, fault_rows, stopped_early
from reports.model import ReportData
from slo._types import Status
from slo.claims import ClaimResult, ClaimStatus
from slo.verdict import ObjectiveResult

__all__ = ["render_junit"]


def _objective_case(o: ObjectiveResult, suite: ET.Element) -> str | None:
    case = ET.SubElement(suite, "testcase", classname="slogate.slo", name=o.name, time="0")
    value = fmt.objective_value(o)
    where = f" (worst {o.per}={o.worst_group})" if o.per and o.worst_group else ""
    stat = o.statistic or o.sli
    if o.status is Status.FAIL:
        msg = f"{stat} {value}{where} breaks threshold {o.threshold_text} ({o.events:,} events)"
        _child(case, "failure", msg, "fail", _groups(o))
        return "failure"
    if o.status is Status.INSUFFICIENT_DATA:
        msg = f"insufficient data: {o.reason or 'not enough events'} (threshold {o.threshold_text})"
        if o.optional:
            ET.SubElement(case, "skipped", message="optional objective: " + msg)
            return "skipped"
        _child(case, "failure", msg, "insufficient_data", _groups(o))
        return "failure"
    out = ET.SubElement(case, "system-out")
    out.text = f"{fmt.status_label(o.status)}: {stat} {value}{where}, threshold {o.threshold_text}"
    if o.status is Status.WARN:
        out.text += f" (warn level crossed{': ' + o.reason if o.reason else ''})"
    return None


def _groups(o: ObjectiveResult) -> str:
    lines = [f"{o.per}={g.key}: {g.value if g.value is not None else '-'} {o.unit} "
             f"{g.status.value} ({g.events:,} events){' ' + g.reason if g.reason else ''}"
             for g in o.groups]
    return "\n".join([o.reason, *lines]).strip()


def _claim_case(c: ClaimResult, suite: ET.Element) -> str | None:
    name = f"claim {c.claim.id:02d}: {c.claim.title}" + (" [critical]" if c.claim.critical else "")
    case = ET.SubElement(suite, "testcase", classname="slogate.claims", name=name, time="0")
    msg = f"measured {c.measured}; threshold {c.threshold}; {c.evidence}"
    if c.status is ClaimStatus.FAILED:
        _child(case, "failure", msg, "claim_failed", f"checked by: {', '.join(c.tests) or '-'}")
        return "failure"
    if c.status is ClaimStatus.NOT_VERIFIED:
        hint = f"; to verify: {c.verify_with}" if c.verify_with else ""
        ET.SubElement(case, "skipped", message=f"not verified: {c.evidence}{hint}")
        return "skipped"
    ET.SubElement(case, "system-out").text = f"passed: {msg}"
    return None


def _fault_case(f: FaultRow, suite: ET.Element) -> str | None:
    case = ET.SubElement(suite, "testcase", classname="slogate.faults", name=f.name, time="0")
    detail = (f"health probe: {f.health}; SLIs back: {f.sli}; budget used: {f.budget}; "
              f"phases: {f.phases}")
    if not f.recovered:
        _child(case, "failure", f"{f.summary}: {f.note or 'see the report'}", "not_recovered",
               detail)
        return "failure"
    ET.SubElement(case, "system-out").text = f"{f.summary}; {detail}"
    return None


def _child(case: ET.Element, tag: str, message: str, kind: str, text: str) -> None:
    el = ET.SubElement(case, tag, message=message, type=kind)
    el.text = text or message


def _suite(parent: ET.Element, name: str, timestamp: str, hostname: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name, tests="0", failures="0", errors="0",
                         skipped="0", time="0", timestamp=timestamp, hostname=hostname)


def _count(suite: ET.Element, outcomes: list[str | None]) -> None:
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failure")))
    suite.set("skipped", str(outcomes.count("skipped")))


def render_junit(data: ReportData) -> str:
    """The JUnit XML document (UTF-8 text, with declaration)."""
    run = data.evidence.run
    stamp = dt.datetime.fromtimestamp(run.started_at, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = data.identity.machine.split(" · ")[0] or "localhost"
    root = ET.Element("testsuites", name=f"slogate {data.identity.run_id}")
    v = data.verdict
    slo_suite = _suite(root, f"slo: {v.slo_name or v.slo}" if v else "slo: not judged", stamp, host)
    props = ET.SubElement(slo_suite, "properties")
    for key, value in (("run_id", data.identity.run_id), ("release", data.identity.release),
                       ("git_sha", data.identity.git_sha), ("run_status", data.identity.status),
                       ("verdict", v.status.value if v else "not judged"),
                       ("decision", data.readiness.decision),
                       ("readiness_score", f"{data.readiness.score:.1f}")):
        ET.SubElement(props, "property", name=key, value=value)
    outcomes = [_objective_case(o, slo_suite) for o in (v.objectives if v else ())]
    if v is None:
        case = ET.SubElement(slo_suite, "testcase", classname="slogate.slo", name="verdict",
                             time="0")
        _child(case, "failure", "the run was not judged: no verdict.json", "not_judged",
               "; ".join(data.notes))
        outcomes.append("failure")
    stopped = stopped_early(data)
    if stopped:
        case = ET.SubElement(slo_suite, "testcase", classname="slogate.slo", name="abort_on",
                             time="0")
        _child(case, "failure", stopped, "abort_on", stopped)
        outcomes.append("failure")
    _count(slo_suite, outcomes)
    claims_suite = _suite(root, "readiness claims", stamp, host)
    _count(claims_suite, [_claim_case(c, claims_suite) for c in data.readiness.claims])
    suites = [slo_suite, claims_suite]
    rows = fault_rows(data)
    if rows:
        faults_suite = _suite(root, "faults", stamp, host)
        _count(faults_suite, [_fault_case(f, faults_suite) for f in rows])
        suites.append(faults_suite)
    for attr in ("tests", "failures", "skipped"):
        root.set(attr, str(sum(int(s.get(attr) or 0) for s in suites)))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
