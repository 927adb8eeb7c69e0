"""The ``faults:`` timeline of a scenario file: when, for how long, and which action.

Each entry has exactly one action key (``target``, ``kill``, ``database``, ``exec``); the
rules that need the rest of the scenario (``at`` within the duration, a kill needs a target
slogate started, a database outage needs the owned PostgreSQL) are in :func:`check_faults`,
called by ``Scenario``'s validator so every error names the entry's line and field.
User documentation: ``docs/scenarios.md#faults``.
"""

from __future__ import annotations

import itertools
import signal
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from foundation.durations import Duration
from foundation.yamlfile import FieldValueError
from target_service.faults import FaultConfig

if TYPE_CHECKING:
    from scenarios.spec.models import Scenario

__all__ = ["ACTIONS", "ExecAction", "FaultModel", "KillAction", "check_faults"]

ACTIONS: tuple[str, ...] = ("target", "kill", "database", "exec")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class KillAction(_Model):
    """A signal to one API process of a target slogate supervises (embedded)."""

    process: int | Literal["any"] = "any"
    signal: str = "SIGKILL"

    @field_validator("process")
    @classmethod
    def _index(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("process is a worker index (0, 1, ...) or 'any'")
        return value

    @field_validator("signal")
    @classmethod
    def _signal(cls, value: str) -> str:
        name = value.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        if name not in signal.Signals.__members__:
            raise ValueError(f"{value!r} is not a signal name (e.g. SIGKILL, SIGTERM)")
        return name


class ExecAction(_Model):
    """A shell command (and optionally the command that undoes it), for foreign targets."""

    run: str = Field(min_length=1)
    undo: str | None = Field(default=None, min_length=1)
    timeout: Duration = Field(default=30.0, gt=0)


class FaultModel(_Model):
    """One entry of ``faults:``."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    at: Duration = Field(ge=0)
    for_: Duration | None = Field(default=None, gt=0, alias="for")
    target: FaultConfig | None = None
    kill: KillAction | None = None
    database: Literal["outage"] | None = None
    exec_: ExecAction | None = Field(default=None, alias="exec")

    @model_validator(mode="after")
    def _one_action(self) -> FaultModel:
        given = [a for a in ACTIONS if self._value(a) is not None]
        if len(given) != 1:
            where = (given[1],) if len(given) > 1 else ()
            raise FieldValueError(
                where,
                f"a fault takes exactly one action ({', '.join(ACTIONS)}); "
                + (f"got {' and '.join(given)}" if given else "got none"),
            )
        if self.action == "kill" and self.for_ is not None:
            raise FieldValueError(("for",), "a kill is not undone, so it takes no 'for'")
        if self.action == "exec" and self.exec_ is not None:
            if self.exec_.undo is None and self.for_ is not None:
                raise FieldValueError(
                    ("for",), "an exec without 'undo' is not undone, so it takes no 'for'"
                )
            if self.exec_.undo is not None and self.for_ is None:
                raise FieldValueError(("exec", "undo"), "an exec with 'undo' needs 'for'")
        if self.action in ("target", "database") and self.for_ is None:
            raise FieldValueError(
                (self.action,), f"a {self.action} fault is undone after 'for'; give 'for'"
            )
        return self

    def _value(self, action: str) -> object:
        return getattr(self, "exec_" if action == "exec" else action)

    @property
    def action(self) -> str:
        """``target`` | ``kill`` | ``database`` | ``exec``."""
        return next(a for a in ACTIONS if self._value(a) is not None)

    @property
    def undone(self) -> bool:
        """Whether the fault has an end (``for``) after which it is undone."""
        return self.for_ is not None

    def label(self, index: int) -> str:
        """``name``, or a derived one such as ``kill #2`` (1-based position in the list)."""
        if self.name is not None:
            return self.name
        if self.action == "target" and self.target is not None:
            fields = ", ".join(sorted(self.target.model_fields_set)) or "none"
            return f"target fault ({fields}) #{index + 1}"
        words = {"kill": "kill", "database": "database outage", "exec": "exec"}[self.action]
        return f"{words} #{index + 1}"


def check_faults(s: Scenario) -> None:
    """Rules between ``faults:`` and the rest of the scenario (see the module docstring)."""
    total = s.total_duration()
    for i, f in enumerate(s.faults):
        if f.at >= total:
            raise FieldValueError(
                ("faults", i, "at"),
                f"at {f.at:g} s is not within the load's {total:g} s (it counts from load start)",
            )
        if f.action == "kill" and s.target != "embedded":
            raise FieldValueError(
                ("faults", i, "kill"),
                "kill needs target: embedded (slogate must own the supervised processes; "
                "for another target use exec, e.g. exec: {run: 'docker kill api-1'})",
            )
        process = f.kill.process if f.kill is not None else "any"
        if isinstance(process, int) and process >= s.embedded.workers:
            raise FieldValueError(
                ("faults", i, "kill", "process"),
                f"the embedded target has {s.embedded.workers} worker(s): "
                f"process is 0..{s.embedded.workers - 1} or 'any'",
            )
        if f.action == "database" and (
            s.target != "embedded" or s.embedded.database != "owned-postgres"
        ):
            raise FieldValueError(
                ("faults", i, "database"),
                "database: outage needs the owned PostgreSQL "
                "(target: embedded with embedded: {database: owned-postgres})",
            )
        if f.action == "target" and not s.is_reference_target():
            raise FieldValueError(
                ("faults", i, "target"),
                "target faults use the reference target's /v1/admin/faults; "
                "this target is not the reference target",
            )
    if s.faults and s.health_path is None and not s.is_reference_target():
        raise FieldValueError(
            ("faults",),
            "faults against a foreign target need health_path (what the prober GETs "
            "to see when the target is healthy again)",
        )
    _no_overlap(s)


def _no_overlap(s: Scenario) -> None:
    """Two target (or database) faults at once would undo each other's state."""
    for action in ("target", "database"):
        spans = sorted(
            (f.at, f.at + (f.for_ or 0.0), i) for i, f in enumerate(s.faults) if f.action == action
        )
        for (_, end, _), (start, _, j) in itertools.pairwise(spans):
            if start < end:
                raise FieldValueError(
                    ("faults", j, "at"),
                    f"this {action} fault starts while another {action} fault is in force",
                )
