"""``slogate run``: flags, exit codes, one-sentence errors, Ctrl-C, and the record it leaves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from foundation.layout import RunLayout, RunStatus
from scenarios.record import read_samples
from slogate.cli import main
from tests._servers import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]


async def _ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse("pong")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A plain HTTP server (not slogate's) in a thread; listening before it is returned."""
    with serve_in_thread(Starlette(routes=[Route("/ping", _ping)])) as srv:
        yield srv.url


def _scenario(tmp_path: Path, target: str, duration: str = "3s") -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        f"target: {target}\nduration: {duration}\nload:\n  model: open\n  rate: 10\n"
        "http:\n  - name: ping\n    method: GET\n    path: /ping\n"
    )
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A command started in the background by a non-interactive shell inherits SIGINT *ignored*
# (POSIX shells do that for `cmd &`), and Python then keeps it ignored: a test suite run
# that way would start slogate deaf to Ctrl-C. Start it as a terminal's foreground command
# would be: SIGINT raising KeyboardInterrupt.
_AS_FOREGROUND = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'slogate'; runpy.run_module('slogate.cli', run_name='__main__')"
)


def _slogate(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOGATE_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-c", _AS_FOREGROUND, "run", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("SCENARIO", "--target", "--duration", "--out", "--release", "--allow-remote"):
        assert flag in out
    assert "smoke" in out and "exit codes" in out


def test_bad_scenario_exits_2_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("target: http://127.0.0.1:1\nduration: 30s\nload:\n  model: open\n  rate: fast\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5: load.rate:" in err and err.count("\n") == 1


@pytest.mark.parametrize("value", ["soon", "-5s", "0"])
def test_bad_duration_flag_exits_2(tmp_path: Path, value: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, "http://127.0.0.1:1")
    assert main(["run", str(path), f"--duration={value}"]) == 2
    assert "--duration" in capsys.readouterr().err


def test_remote_target_is_refused_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, "http://127.0.0.1:1")
    out = tmp_path / "run"
    assert main(["run", str(path), "--target", "http://10.255.255.1:8000", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "--allow-remote" in err and err.count("\n") == 1
    assert not out.exists()


def test_unreachable_target_exits_3_in_one_sentence(tmp_path: Path) -> None:
    path = _scenario(tmp_path, f"http://127.0.0.1:{_free_port()}")
    proc = _slogate(str(path), "--out", str(tmp_path / "run"))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0 and "unreachable" in err
    assert RunLayout(tmp_path / "run").read_info().status is RunStatus.FAILED


@pytest.mark.slow
def test_clean_run_exits_0_and_says_where_the_record_is(server: str, tmp_path: Path) -> None:
    path = _scenario(tmp_path, "http://127.0.0.1:1")  # --target overrides it
    slo = tmp_path / "slo.yaml"  # 20 requests: enough for availability with a low minimum
    slo.write_text("objectives:\n  - name: avail\n    sli: availability\n    target: 99\n"
                   "    min_events: 10\n    select: {kind: http}\n")
    out_dir = tmp_path / "run"
    proc = _slogate(str(path), "--target", server, "--duration", "2s", "--out", str(out_dir),
                    "--release", "v9", "--slo", str(slo), "--no-cross-check")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert f"run record: {out_dir}" in out
    assert "verdict: PASS" in out and "report (html):" in out
    assert "[running]" in out  # not a TTY: plain status lines
    info = RunLayout(out_dir).read_info()
    assert info.status is RunStatus.COMPLETE and info.release == "v9"
    assert info.target_url == server and info.scenario["duration"] == 2.0
    assert abs(read_samples(out_dir).num_rows - 20) <= 1  # 10/s for 2 s


def _run_processes(marker: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if marker in " ".join(p.info["cmdline"] or []):
                found.append(p)
        except psutil.Error:
            continue
    return found


@pytest.mark.slow
def test_ctrl_c_marks_the_run_aborted_and_keeps_samples(server: str, tmp_path: Path) -> None:
    path = _scenario(tmp_path, server, duration="60s")
    out_dir = tmp_path / "ctrl-c-run"
    proc = _slogate(str(path), "--out", str(out_dir))
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # wait for load to be running, as a user would
            if line.startswith("[running]") and " 0 ops" not in line:
                break
        workers = _run_processes(str(out_dir))
        assert workers, "the run started no worker processes"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, err
    assert "Traceback" not in err and "aborted" in err and "interrupted" in err
    info = RunLayout(out_dir).read_info()
    assert info.status is RunStatus.ABORTED and "interrupted" in info.reason
    assert read_samples(out_dir).num_rows > 0
    assert not list((out_dir / "samples").glob("*.arrows"))
    assert json.loads((out_dir / "run.json").read_text())["samples"] == read_samples(out_dir).num_rows
    # every process the run started is gone
    _gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive and not _run_processes(str(out_dir))


def test_display_renders_progress_on_a_terminal_and_in_logs() -> None:
    import io

    from rich.console import Console

    from scenarios.runner import RunProgress
    from slogate.commands.run import _LineDisplay, _LiveDisplay

    p = RunProgress("running", 12.0, 45.0, operations=1200, errors=3, requests_per_s=98.5,
                    p95_ms=563.0, http_users={"team": 4}, ws_sessions={"starter": 24, "team": 120},
                    http_p95_ms=8.4, ws_first_token_p95_ms=412.0)
    buf = io.StringIO()
    live = _LiveDisplay(Console(file=buf, force_terminal=True, width=100))
    with live:
        live.update(p)
    text = buf.getvalue()
    for fragment in ("12 s elapsed, 33 s remaining", "98.5", "1200 (3 errors)",
                     "http 8.4 ms, ws first token 412 ms", "starter=24 team=120", "team=4"):
        assert fragment in text
    assert "563" not in text  # the mixed figure is never shown
    log = io.StringIO()
    lines = _LineDisplay(log, every_s=5.0)
    lines.update(RunProgress("starting", 0.0, 45.0, message="provisioning 8 tenants"))
    lines.update(p)
    lines.update(p)  # within 5 s of the last line: not printed again
    out = log.getvalue().splitlines()
    assert out[0] == "[starting] provisioning 8 tenants"
    assert len(out) == 2 and out[1].startswith("[running] 12s/45s 98.5 req/s, 1200 ops, 3 errors")
    assert "p95 http 8.4 ms, ws first token 412 ms" in out[1] and "563" not in out[1]


def test_terminal_summary_says_what_a_go_did_not_verify() -> None:
    from slo.claims import CLAIMS, ClaimResult, ClaimStatus, Readiness
    from slogate.commands.run import readiness_lines

    statuses = {3: ClaimStatus.NOT_VERIFIED, 4: ClaimStatus.NOT_VERIFIED, 9: ClaimStatus.FAILED}
    claims = tuple(ClaimResult(c, statuses.get(c.id, ClaimStatus.PASSED), "-", "-", "-")
                   for c in CLAIMS)
    r = Readiness(True, "GO: all 5 critical claims passed.", 70.4, 19, 27, claims)
    lines = readiness_lines(r, "smoke")
    assert lines == [
        "GO: all 5 critical claims passed.",
        "readiness: GO, score 70 % (19 of 27 weighted points); 10 of 13 claims passed, "
        "1 failed, 2 not verified",
        "not verified: claims 3, 4; to verify them: slogate run readiness",
    ]
    # the readiness scenario itself: no command to suggest, the report says why
    assert "slogate run" not in readiness_lines(r, "readiness")[-1]
    done = tuple(ClaimResult(c, ClaimStatus.PASSED, "-", "-", "-") for c in CLAIMS)
    assert len(readiness_lines(Readiness(True, "GO.", 100.0, 27, 27, done), "smoke")) == 2


def test_a_catalog_scenario_runs_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from foundation.errors import ConfigError
    from scenarios.spec import CATALOG_DIR, load_scenario

    monkeypatch.chdir(tmp_path)
    assert load_scenario("soak").path == CATALOG_DIR / "soak.yaml"
    (tmp_path / "soak").write_text("name: mine\ntarget: http://127.0.0.1:9\nload: {users: 1}\n"
                                   "http: [{name: h, path: /}]\nduration: 5\n")
    assert load_scenario("soak").path == Path("soak")  # a local file wins
    with pytest.raises(ConfigError, match="no such scenario file"):
        load_scenario("no-such")
