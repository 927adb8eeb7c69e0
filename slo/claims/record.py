"""``readiness.json``: the readiness judgement of a run, written by ``slo`` beside ``verdict.json``.

The GO / NO-GO decision, the score, every claim with its evidence, the top risks and the
capacity by tier are judged here once (:func:`judge_readiness`) and written to the run
directory, so the decision can be re-read, diffed and gated on (``slogate readiness``)
without rendering a report, and ``reports/`` only reads it.

``readiness.json`` (schema_version 1)::

    {
      "schema_version": 1,
      "run_id": "20261126-0600-ab12",
      "decision": "NO-GO", "go": false, "score": 41.2, "earned": 21, "total": 51,
      "sentence": "NO-GO: critical claims not verified: 7 (tenant_isolation)...",
      "claims": [{"id": 1, "key": "...", "title": "...", "weight": 5, "critical": true,
                  "status": "passed", "measured": "...", "threshold": "...",
                  "evidence": "...", "tests": [...], "value": 12.5, "marginal": false,
                  "verify_with": ""}, ...],
      "risks": [{"severity": "high", "kind": "...", "title": "...", "detail": "...",
                 "anchor": "claim-7"}, ...],
      "capacity": [{"tier": "free", "tenants": 10, ..., "status": "pass",
                    "objectives": [...]}, ...]
    }

A claim's ``id`` is the key: its title, weight and criticality are re-read from the catalog
(:mod:`slo.claims.catalog`) and must match, so a file written by another catalog is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from foundation.documents import Migration, read_json, upgrade_versioned, write_text_atomic
from foundation.errors import ConfigError, RunIncompleteError
from foundation.layout import RunLayout, RunStatus
from slo._types import Status
from slo.capacity.result import CAPACITY_JSON, CapacityResult, read_capacity
from slo.claims.capacity import TierCapacity, tier_capacity
from slo.claims.catalog import CLAIMS_BY_ID
from slo.claims.evidence import Evidence
from slo.claims.findings import Risk, find_risks
from slo.claims.gather import gather_evidence
from slo.claims.judge import ClaimResult, ClaimStatus, judge_claims
from slo.claims.score import Readiness, readiness
from slo.measure import read_run_info
from slo.samples import SampleColumns

__all__ = [
    "READINESS_JSON",
    "READINESS_SCHEMA_VERSION",
    "ReadinessRecord",
    "judge_readiness",
    "read_readiness",
    "readiness_from_dict",
    "readiness_to_dict",
    "run_capacity",
    "write_readiness",
    "write_run_readiness",
]

READINESS_SCHEMA_VERSION: Final = 1
READINESS_JSON: Final = RunLayout("").readiness_json.name
_MIGRATIONS: Final[dict[int, Migration]] = {}
"""``{old_version: function}`` upgrading a readiness dict by one version (none needed yet)."""


@dataclass(frozen=True, slots=True)
class ReadinessRecord:
    """Everything ``readiness.json`` holds: the decision and its claims, risks and capacity."""

    run_id: str
    readiness: Readiness
    risks: tuple[Risk, ...]
    capacity: tuple[TierCapacity, ...]

    @property
    def go(self) -> bool:
        return self.readiness.go


def judge_readiness(evidence: Evidence) -> ReadinessRecord:
    """Judge every claim on ``evidence``, score and decide, find the risks and the capacity."""
    claims = judge_claims(evidence)
    return ReadinessRecord(
        run_id=evidence.run.run_id,
        readiness=readiness(evidence, claims),
        risks=find_risks(evidence, claims),
        capacity=tier_capacity(evidence),
    )


def run_capacity(run_dir: Path, given: Sequence[Path] = ()) -> tuple[CapacityResult, ...]:
    """Capacity results that judge claim 5: the ``given`` capacity directories, then a
    ``capacity.json`` inside ``run_dir`` if there is one."""
    paths = [*given, *([run_dir] if (run_dir / CAPACITY_JSON).is_file() else [])]
    return tuple(read_capacity(p) for p in paths)


def write_run_readiness(
    run_dir: Path, capacity: Sequence[Path] = (), *, samples: SampleColumns | None = None
) -> ReadinessRecord:
    """Gather the run's evidence, judge it and write ``RUN_DIR/readiness.json``.

    ``samples``: the run's samples when the caller has read them already (with at least the
    claims' columns), so a 10-million-sample run is not read twice.

    A complete run without ``verdict.json`` cannot be judged (:class:`RunIncompleteError`,
    exit 3): its readiness would rest on objectives nobody evaluated. An aborted or failed
    run without a verdict is judged (it is NO-GO, and the file says why).
    """
    layout = RunLayout(run_dir)
    info = read_run_info(run_dir)
    if info.status is RunStatus.COMPLETE and not layout.verdict_json.exists():
        raise RunIncompleteError(
            f"{layout.verdict_json} does not exist: the run was never judged; run "
            f"'slogate evaluate {run_dir}' first"
        )
    evidence = gather_evidence(run_dir, capacity=run_capacity(run_dir, capacity), samples=samples)
    record = judge_readiness(evidence)
    write_readiness(record, layout.readiness_json)
    return record


def readiness_to_dict(record: ReadinessRecord) -> dict[str, Any]:
    """The JSON form of :class:`ReadinessRecord` (see the module docstring)."""
    r = record.readiness
    return {
        "schema_version": READINESS_SCHEMA_VERSION,
        "run_id": record.run_id,
        "decision": r.decision,
        "go": r.go,
        "score": r.score,
        "earned": r.earned,
        "total": r.total,
        "sentence": r.sentence,
        "claims": [_claim_to_dict(c) for c in r.claims],
        "risks": [asdict(k) for k in record.risks],
        "capacity": [{**asdict(c), "status": None if c.status is None else c.status.value}
                     for c in record.capacity],
    }


def write_readiness(record: ReadinessRecord, path: Path) -> Path:
    """Write ``readiness.json`` atomically (a reader never sees half a file)."""
    return write_text_atomic(path, json.dumps(readiness_to_dict(record), indent=2) + "\n")


def read_readiness(path: Path) -> ReadinessRecord:
    """Load a ``readiness.json`` (or the one inside a run directory)."""
    path = path / READINESS_JSON if path.is_dir() else path
    return readiness_from_dict(read_json(path, "readiness"), source=str(path))


def readiness_from_dict(data: dict[str, Any], *, source: str = READINESS_JSON) -> ReadinessRecord:
    """Inverse of :func:`readiness_to_dict`."""
    data = upgrade_versioned(data, current=READINESS_SCHEMA_VERSION, migrations=_MIGRATIONS,
                             what="readiness", source=source,
                             rerun="re-run 'slogate readiness' (or 'slogate evaluate') on the run")
    try:
        claims = tuple(_claim_from_dict(c) for c in data["claims"])
        judged = Readiness(go=bool(data["go"]), sentence=data["sentence"], score=float(data["score"]),
                           earned=int(data["earned"]), total=int(data["total"]), claims=claims)
        risks = tuple(Risk(**k) for k in data["risks"])
        capacity = tuple(
            TierCapacity(**{**c, "status": None if c["status"] is None else Status(c["status"]),
                            "objectives": tuple(c["objectives"])})
            for c in data["capacity"])
        return ReadinessRecord(run_id=str(data["run_id"]), readiness=judged, risks=risks,
                               capacity=capacity)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"malformed readiness: {exc}", path=source) from exc


def _claim_to_dict(c: ClaimResult) -> dict[str, Any]:
    d = c.claim
    return {
        "id": d.id, "key": d.key, "title": d.title, "weight": d.weight, "critical": d.critical,
        "status": c.status.value, "measured": c.measured, "threshold": c.threshold,
        "evidence": c.evidence, "tests": list(c.tests), "value": c.value, "marginal": c.marginal,
        "verify_with": c.verify_with,
    }


def _claim_from_dict(data: dict[str, Any]) -> ClaimResult:
    claim = CLAIMS_BY_ID.get(data["id"])
    if claim is None or (claim.key, claim.weight, claim.critical) != (
            data["key"], data["weight"], data["critical"]):
        raise ValueError(f"claim {data['id']!r} ({data.get('key')!r}) is not this slogate's "
                         "claim of that id")
    return ClaimResult(
        claim=claim, status=ClaimStatus(data["status"]), measured=data["measured"],
        threshold=data["threshold"], evidence=data["evidence"], tests=tuple(data["tests"]),
        value=data["value"],
        marginal=bool(data["marginal"]), verify_with=data["verify_with"],
    )
