"""The two-machine walk-throughs in docs/http-load.md and docs/swarm.md, read as a new user
would run them: every scenario block loads with slogate's loader, every ``slogate run`` /
``slogate worker`` command parses with slogate's own parser (exact flag spelling), and the
split the text promises is what :func:`split_load` deals out.

(docs/http-load.md once showed ``path: /search?q=x`` inside a YAML flow mapping, which YAML
cannot parse: a copy-paste failed on the first step.)
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from scenarios.distributed.protocol import Assignment, parse_master_address, split_load
from scenarios.http.plan import HttpPlan
from scenarios.runner.distributed import distributed_settings
from scenarios.runner.plans import build_http_plan, build_swarm_plan
from scenarios.runner.request import RunRequest
from scenarios.spec import parse_scenario
from scenarios.swarm import SwarmPlan, assign_sessions
from tests.slogate.argv import parse_exactly

DOCS = Path(__file__).resolve().parents[2] / "docs"
WALKTHROUGHS = {
    "http-load": (DOCS / "http-load.md", "### Walk-through: two machines"),
    "swarm": (DOCS / "swarm.md", "### Walk-through: 40,000 sessions from two machines"),
}
# Placeholders the text asks the reader to fill in, with what a reader would put there.
FILL = {"<its two addresses>": "10.0.0.11,10.0.0.12"}


def _section(name: str) -> str:
    path, heading = WALKTHROUGHS[name]
    text = path.read_text()
    assert heading in text, f"{path.name} lost its walk-through ({heading!r})"
    body = text[text.index(heading) + len(heading):]
    end = re.search(r"\n#{2,3} ", body)
    return body[: end.start()] if end else body


def _yaml(name: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", _section(name), flags=re.S)
    assert len(blocks) == 1
    return "\n".join(line.strip() if name == "http-load" else line for line in blocks[0].splitlines())


def _commands(name: str) -> list[list[str]]:
    found = re.findall(r"`(slogate (?:run|worker) [^`]*)`", _section(name))
    for placeholder, value in FILL.items():
        found = [c.replace(placeholder, value) for c in found]
    return [shlex.split(c)[1:] for c in found]


@pytest.mark.parametrize("name", sorted(WALKTHROUGHS))
def test_walkthrough_commands_parse_and_agree_on_the_master_port(name: str) -> None:
    loaded = parse_scenario(_yaml(name), source=f"{name}.md")
    commands = _commands(name)
    assert {c[0] for c in commands} == {"run", "worker"}
    run = parse_exactly(next(c for c in commands if c[0] == "run"))
    settings = distributed_settings(loaded.scenario, RunRequest(
        loaded, allowed_remote=tuple(run.allow_remote.split(",")), expect_workers=run.expect_workers,
        master_bind=run.master_bind))
    assert settings is not None and settings.expect_workers == 2
    for argv in (c for c in commands if c[0] == "worker"):
        host, port = parse_master_address(parse_exactly(argv).master)
        assert port == settings.bind_port
        assert host == "10.0.0.10"
    assert f"port {settings.bind_port}" in _section(name) or f"TCP {settings.bind_port}" in _section(name)


def _split(name: str) -> tuple[list[Assignment], SwarmPlan]:
    """The walk-through's scenario dealt to its 2 hosts, by the runner's own plan builders."""
    s = parse_scenario(_yaml(name)).scenario
    http = build_http_plan(s, s.target, (), allow_remote=True)
    swarm = build_swarm_plan(s, s.target, (), allow_remote=True)
    assert swarm is not None
    assignments = split_load(http, swarm, 2)
    wide = SwarmPlan.from_json(assignments[0].swarm_plan or "")
    return assignments, wide


def test_http_walkthrough_split_is_the_one_the_text_describes() -> None:
    assignments, wide = _split("http-load")
    text = _section("http-load")
    # "each host runs 2 HTTP processes at 100/s and 2 shards of 5,000 sessions"
    assert "2 HTTP processes at 100/s and 2 shards of\n   5,000 sessions" in text
    for a in assignments:
        assert len(a.http_shares) == 2 and len(a.swarm_shards) == 2
        plan = HttpPlan.from_json(a.http_plan or "")
        (stage,) = plan.stages
        assert stage.rate is not None and stage.rate / plan.processes == 100
        assert [len(assign_sessions(wide, k)) for k in a.swarm_shards] == [5000, 5000]
    # "part-0.parquet (gen-a) and part-4.parquet (gen-b)": each host's first worker number
    assert [a.first_worker for a in assignments] == [0, 4]
    assert "`part-0.parquet` (gen-a) and `part-4.parquet` (gen-b)" in text


def test_swarm_walkthrough_split_is_the_one_the_text_describes() -> None:
    assignments, wide = _split("swarm")
    assert "20,000 per host, 10,000 per shard" in _section("swarm")
    for a in assignments:
        assert a.http_shares == ()
        assert [len(assign_sessions(wide, k)) for k in a.swarm_shards] == [10_000, 10_000]
