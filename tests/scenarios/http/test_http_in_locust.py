"""Run the in-process Locust tests (``in_locust/``) in a child interpreter, one per module.

See ``in_locust/conftest.py`` for why they cannot run in this process. By hand::

    SLOGATE_IN_LOCUST=1 python -c "import gevent.monkey, sys; gevent.monkey.patch_all(); \
        import pytest; sys.exit(pytest.main())" tests/scenarios/http/in_locust -q
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

IN_LOCUST = Path(__file__).with_name("in_locust")
ROOT = Path(__file__).resolve().parents[3]
# patch before pytest imports ssl (via urllib), as Locust's own suite does by importing locust
# first; patching later makes gevent's SSLContext recurse
CHILD = "import gevent.monkey, sys; gevent.monkey.patch_all(); import pytest; sys.exit(pytest.main())"


@pytest.mark.parametrize("module", sorted(p.name for p in IN_LOCUST.glob("test_*.py")))
def test_in_locust_process(module: str) -> None:
    env = {**os.environ, "SLOGATE_IN_LOCUST": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(IN_LOCUST / module), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=110,
        env=env,
        cwd=ROOT,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    summary = re.search(r"(\d+) passed", output)
    assert summary is not None and int(summary.group(1)) > 0, output
    assert "skipped" not in output.splitlines()[-1], output
