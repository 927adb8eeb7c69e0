"""ci/: the workflow files validate against their published schemas, are wired the way
ci/README.md says, and ci/gate.sh combines exit codes and writes the summary correctly."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "ci" / "github" / "slogate.yml"
GITLAB = ROOT / "ci" / "gitlab" / ".gitlab-ci.yml"
GATE = ROOT / "ci" / "gate.sh"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return str(found)


def _validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("path", "schema"), [(GITHUB, "vendor.github-workflows"),
                                              (GITLAB, "vendor.gitlab-ci")])
def test_workflow_files_match_their_schemas(path: Path, schema: str, tmp_path: Path) -> None:
    done = _validate(path, schema)
    assert done.returncode == 0, done.stdout + done.stderr
    # the validator is not a rubber stamp: a misspelt key in a copy is rejected
    broken = tmp_path / path.name
    text = path.read_text()
    broken.write_text(text.replace("runs-on:", "runs-onn:") if path == GITHUB
                      else text.replace("  script:", "  scriptt:"))
    assert _validate(broken, schema).returncode != 0


def _github() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(GITHUB.read_text())
    return data


def test_github_workflow_gates_in_one_step_and_keeps_history_and_artifacts() -> None:
    data = _github()
    triggers = data["on"] if "on" in data else data[True]  # YAML 1.1 reads `on` as true
    assert set(triggers) >= {"push", "pull_request"}
    steps = data["jobs"]["load-test"]["steps"]
    names = [s.get("uses", s.get("run", "")).split("@")[0].split()[0] for s in steps]
    gate = [i for i, s in enumerate(steps) if "ci/gate.sh" in s.get("run", "")]
    assert len(gate) == 1
    order = {n: i for i, n in enumerate(names)}
    run = next(i for i, s in enumerate(steps) if s.get("run", "").startswith("slogate run"))
    assert order["actions/cache/restore"] < run < gate[0] < order["actions/cache/save"]
    assert steps[order["actions/cache/save"]]["if"] == "always() && github.event_name != 'pull_request'"
    upload = steps[order["actions/upload-artifact"]]
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ env.RUN_DIR }}"
    assert "--no-record" in steps[gate[0]]["run"]  # pull requests judge but do not record


def test_gitlab_example_gates_with_the_same_script() -> None:
    job = yaml.safe_load(GITLAB.read_text())["slogate"]
    assert sum("ci/gate.sh" in line for line in job["script"]) == 1
    assert job["cache"]["paths"] == [".slogate-history/"]
    assert "$RUN_DIR/comparison.junit.xml" in job["artifacts"]["reports"]["junit"]
    assert job["artifacts"]["when"] == "always"


def test_gate_script_is_executable_and_shellcheck_clean() -> None:
    assert GATE.stat().st_mode & stat.S_IXUSR
    assert subprocess.run(["bash", "-n", str(GATE)], check=False).returncode == 0
    done = subprocess.run([_tool("shellcheck"), str(GATE)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout


FAKE = """#!/usr/bin/env bash
# fake slogate: logs its arguments, exits with the code the test chose for the subcommand
echo "$*" >> "$FAKE_LOG"
case $1 in
  evaluate) exit "$FAKE_EVALUATE" ;;
  report) exit 2 ;;
  compare) echo "# comparison summary" > "${@: -1}/comparison.md"; exit "$FAKE_COMPARE" ;;
esac
"""


@pytest.mark.parametrize(
    ("evaluate", "compare", "expected", "compared"),
    [
        pytest.param(0, 0, 0, True, id="pass"),
        pytest.param(1, 0, 1, True, id="slo_failed"),
        pytest.param(0, 1, 1, True, id="regression"),
        pytest.param(1, 3, 3, True, id="baseline_unusable_beats_failure"),
        pytest.param(0, 2, 2, True, id="not_comparable_beats_everything"),
        pytest.param(3, 0, 3, False, id="run_unusable_skips_compare"),
        pytest.param(2, 0, 2, False, id="bad_slo_file_skips_compare"),
    ],
)
def test_gate_combines_exit_codes(
    tmp_path: Path, evaluate: int, compare: int, expected: int, compared: bool
) -> None:
    fake = tmp_path / "slogate"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log, summary = tmp_path / "log", tmp_path / "summary.md"
    env = {**os.environ, "GATE_SLOGATE": str(fake), "FAKE_LOG": str(log),
           "FAKE_EVALUATE": str(evaluate), "FAKE_COMPARE": str(compare),
           "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(["bash", str(GATE), str(run_dir), "--history", str(tmp_path / "h"),
                           "--", "--p95-tolerance", "5%"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == expected, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == f"evaluate {run_dir}"
    compare_calls = [c for c in calls if c.startswith("compare")]
    if compared:
        assert compare_calls == [
            f"compare --history {tmp_path / 'h'} --baseline latest-passing --no-baseline ok "
            f"--record {run_dir} --p95-tolerance 5% {run_dir}"]
        assert "# comparison summary" in summary.read_text()
    else:
        assert compare_calls == [] and not summary.exists()


def test_gate_no_record_and_usage(tmp_path: Path) -> None:
    assert subprocess.run(["bash", str(GATE)], capture_output=True, check=False).returncode == 2
    fake = tmp_path / "slogate"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    (tmp_path / "run").mkdir()
    env = {**os.environ, "GATE_SLOGATE": str(fake), "FAKE_LOG": str(tmp_path / "log"),
           "FAKE_EVALUATE": "0", "FAKE_COMPARE": "0"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(["bash", str(GATE), str(tmp_path / "run"), "--no-record"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0
    assert "--record" not in (tmp_path / "log").read_text()
