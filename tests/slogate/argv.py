"""Parse a documented or shipped ``slogate ...`` command line with slogate's own parser.

Used by the tests that keep examples outside the code honest (the Kubernetes manifest, the
docs' walk-throughs): a renamed or removed flag must break them. argparse accepts any
unambiguous abbreviation of a long flag, so each flag is also checked for its exact spelling.
"""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from slogate.cli import build_parser

__all__ = ["parse_exactly"]


def parse_exactly(argv: list[str]) -> argparse.Namespace:
    """``argv`` without the leading ``slogate``; fails the test with argparse's message."""
    parser = build_parser(argv[0])
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"slogate rejects {argv}: {err.getvalue().strip()}")
    sub = parser._subparsers._group_actions[0].choices[argv[0]]  # type: ignore[union-attr]
    known = {s for action in sub._actions for s in action.option_strings}
    used = {token.split("=", 1)[0] for token in argv if token.startswith("--")}
    if not used <= known:
        pytest.fail(f"flags not spelt as slogate {argv[0]} spells them: {sorted(used - known)}")
    return args
