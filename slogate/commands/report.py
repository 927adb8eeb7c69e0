"""``slogate report RUN_DIR [--format html,md,json,junit] [--audience exec|sre] [--out DIR]``.

Renders the readiness report of a saved run from its run record and ``verdict.json`` --
never from a live run, so a report can be re-rendered and diffed. Files: ``report.html``,
``report.md``, ``report.json``, ``junit.xml`` in the run directory (or ``--out``).

A complete run without ``verdict.json`` is refused (exit 3): run ``slogate evaluate RUN_DIR``
first. An aborted or failed run without one is rendered, saying plainly that it was not
judged. The readiness (claims, score, GO / NO-GO) is read from ``readiness.json``, which
``slo`` writes when the run is judged; a record without one (older than readiness.json, or an
unjudged aborted run) gets it written here first, by ``slo``. ``--capacity DIR`` re-judges the
claims with those capacity searches (claim 5) and writes that judgement as ``readiness.json``
beside the reports (the run directory's own file changes only when the reports go there).
``--audience exec`` keeps only the one-page readiness summary in HTML and Markdown; JSON and
JUnit are the same for both audiences.

Exit codes: 0 rendered · 2 bad flag · 3 the run record is unusable (no run.json, unreadable
verdict, complete run never judged). The report's GO / NO-GO is not an exit code: the gate
is ``slogate evaluate``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from foundation.errors import EXIT_OK, RunIncompleteError
from foundation.layout import RunLayout, RunStatus

if TYPE_CHECKING:
    from slo.claims.record import ReadinessRecord

__all__ = ["add_parser", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="render a run's readiness report (HTML, Markdown, JSON, JUnit XML)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="run directory written by 'slogate run' (with verdict.json)")
    parser.add_argument("--format", dest="formats", default="html,md,json,junit",
                        metavar="LIST",
                        help="comma-separated formats: html, md, json, junit (default: all)")
    parser.add_argument("--audience", choices=("exec", "sre"), default="sre",
                        help="exec: the one-page readiness summary only; sre (default): "
                        "summary plus SRE detail")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write the files here instead of into RUN_DIR")
    parser.add_argument("--capacity", type=Path, action="append", default=[], metavar="DIR",
                        help="a 'slogate capacity' directory (repeat per tier): claim 5 is "
                        "judged from its --vary tenants/sessions --tier result")
    return parser


def run(args: argparse.Namespace) -> int:
    from reports.render import parse_formats, render_all  # Jinja2 only when reporting

    formats = parse_formats(args.formats)
    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise RunIncompleteError(
            f"{run_dir} is not a directory; give the run directory 'slogate run' printed"
        )
    written = render_all(run_dir, formats=formats, audience=args.audience, out_dir=args.out,
                         judged=_judged(run_dir, args.capacity, args.out))
    for name, path in written.items():
        print(f"{name}: {path}")
    return EXIT_OK


def _judged(run_dir: Path, capacity: list[Path], out: Path | None) -> ReadinessRecord | None:
    """``slo``'s readiness for the report: None when ``readiness.json`` is there to be read.

    Judged (and written) here only when the record has none yet, or ``--capacity`` brings
    inputs the run's judgement did not have. A complete run without a verdict is left to the
    report's own refusal (exit 3, naming 'slogate evaluate').
    """
    from slo.claims import judge_readiness, write_readiness, write_run_readiness
    from slo.claims.gather import gather_evidence
    from slo.claims.record import run_capacity

    layout = RunLayout(run_dir)
    if capacity:
        judged = judge_readiness(gather_evidence(run_dir, capacity=run_capacity(run_dir, capacity)))
        target = (out or run_dir)
        target.mkdir(parents=True, exist_ok=True)
        write_readiness(judged, target / layout.readiness_json.name)
        return judged
    if layout.readiness_json.exists() or not layout.run_json.exists():
        return None
    if not layout.verdict_json.exists() and layout.read_info().status is RunStatus.COMPLETE:
        return None
    return write_run_readiness(run_dir)
