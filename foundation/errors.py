"""The one exception tree of slogate, and the exit code each branch maps to.

::

    HarnessError                      exit 3 unless a subclass says otherwise
    ├── UsageError                    exit 2  bad flag or argument combination
    ├── ConfigError                   exit 2  bad scenario/SLO file: names file, line and field
    ├── TargetError                   exit 3  target unreachable or refused (e.g. not loopback)
    ├── RunIncompleteError            exit 3  run aborted, failed, or data missing
    ├── SourceError                   exit 3  a measurement source (Prometheus, importer) failed
    └── ReportError                   exit 3  a report could not be rendered

An SLO breach is a *result* (a verdict with status ``fail``), never an exception: only
``slogate/cli.py`` turns verdicts and these errors into exit codes, in one place.
"""

from __future__ import annotations

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConfigError",
    "HarnessError",
    "ReportError",
    "RunIncompleteError",
    "SourceError",
    "TargetError",
    "UsageError",
]

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class HarnessError(Exception):
    """Base of every error slogate reports to a user as one sentence, without a traceback."""

    exit_code: int = EXIT_INCOMPLETE


class UsageError(HarnessError):
    """A command was called with flags or arguments that cannot work together."""

    exit_code = EXIT_USAGE


class ConfigError(HarnessError):
    """A scenario or SLO file is malformed.

    The message always names the file, the line and the field, e.g.
    ``scenario.yaml:7: load.rate: Input should be a valid number, got 'fast'``.
    """

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{message}")


class TargetError(HarnessError):
    """The target cannot be used: unreachable, refused by the safety rules, or not ready."""


class RunIncompleteError(HarnessError):
    """A run ended aborted or failed, or its record lacks data needed to judge it."""


class SourceError(HarnessError):
    """A measurement source (Prometheus, a /metrics scrape, an importer) could not answer."""


class ReportError(HarnessError):
    """A report could not be rendered from a run record and verdict."""
