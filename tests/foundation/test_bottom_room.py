"""The bottom room imports none of the rooms above it, and its duration grammar is the superset
of what scenario and SLO files used to accept."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import foundation
from foundation.durations import format_duration, parse_duration

ROOT = Path(__file__).resolve().parents[2]
ROOMS_ABOVE = ("scenarios", "slo", "reports", "slogate", "target_service")


def test_foundation_imports_no_room_above_it() -> None:
    modules = sorted(f"foundation.{m.name}" for m in pkgutil.iter_modules(foundation.__path__))
    assert {"foundation.errors", "foundation.yamlfile", "foundation.layout"} <= set(modules)
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60)
    loaded = json.loads(out.stdout)
    above = [m for m in loaded if m.split(".")[0] in ROOMS_ABOVE]
    assert above == [], f"the bottom room pulled in {above}"
    assert "foundation.layout" in loaded  # the check ran on the real modules


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (30, 30.0), (2.5, 2.5), ("30s", 30.0), ("2m", 120.0), ("1h30m", 5400.0), ("1m30s", 90.0),
        ("250ms", 0.25), (" 45 ", 45.0), ("30d", 2_592_000.0), ("1w", 604_800.0), ("90", 90.0),
        ("2M", 120.0), ("1d12h", 129_600.0), ("1 h 30 m", 5400.0),
    ],
)
def test_one_grammar_accepts_both_rooms_spellings(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "2 minutes", "1m1m", "s", "-3", True, None, "inf", "1d1d"])
def test_one_grammar_rejects_and_names_the_spellings(text: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    if text not in ("-3", "inf"):
        # both former messages' information: the bad value, the examples, the units
        assert f"not a duration: {text!r}" in message
        assert "expected a duration such as 30, '30s'" in message and "'30d'" in message
        assert "units: ms, s, m, h, d, w" in message
    else:
        assert "finite number of seconds >= 0" in message


def test_format_duration_round_trips() -> None:
    for seconds in (2_592_000.0, 604_800.0, 5400.0, 90.0, 0.25):
        assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
