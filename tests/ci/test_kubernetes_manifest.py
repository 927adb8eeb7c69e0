"""ci/kubernetes/distributed.yaml, checked as far as a machine without a cluster can.

No Docker engine and no Kubernetes cluster run here, so nothing is applied. What is checked:

* every document validates against Kubernetes' own OpenAPI schemas, strictly (unknown
  fields are errors), offline: ``kubernetes-validate`` bundles the schemas per release;
* the scenario in the ConfigMap loads with slogate's own scenario loader;
* the containers' commands parse with slogate's own argparse parser, and every flag they
  use is spelt exactly as the parser spells it (argparse would accept an abbreviation, so a
  renamed flag could otherwise slip through);
* the ports agree: the Service's port and targetPort, the master container's port, the
  port the master binds (resolved by the runner's own ``distributed_settings``) and the
  port workers dial; labels, replicas and the mounted scenario path agree too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from scenarios.distributed.protocol import parse_master_address
from scenarios.runner.distributed import distributed_settings
from scenarios.runner.request import RunRequest
from scenarios.runner.safety import allowed_networks, check_target_allowed
from scenarios.spec import load_scenario
from tests.slogate.argv import parse_exactly

kv = pytest.importorskip("kubernetes_validate", reason="pip install -e '.[test]' (kubernetes-validate)")

MANIFEST = Path(__file__).resolve().parents[2] / "ci" / "kubernetes" / "distributed.yaml"
# The oldest Kubernetes release the bundled schemas cover and the newest: the manifest uses
# only long-stable APIs (v1, apps/v1), so it must pass both.
VERSIONS = ("1.25", kv.latest_version())
# Cluster DNS names exist only inside a cluster: a stand-in resolver (the one fake here).
CLUSTER_IPS = {"my-service.default.svc.cluster.local": ["10.96.12.34"]}


def _docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d is not None]


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"want one {kind} {name} in {MANIFEST.name}, found {len(found)}"
    return found[0]


def _container(deployment: str) -> dict[str, Any]:
    pod = _one("Deployment", deployment)["spec"]["template"]["spec"]
    containers: list[dict[str, Any]] = pod["containers"]
    assert len(containers) == 1
    return containers[0]


def _slogate_argv(container: dict[str, Any]) -> list[str]:
    """The ``slogate ...`` command a container runs (through ``sh -c`` or directly)."""
    argv = [*container.get("command", []), *container.get("args", [])]
    if argv[:2] == ["sh", "-c"]:
        script = re.sub(r"\$\([^)]*\)", "X", " ".join(argv[2:]))  # $(date ...) -> one word
        argv = shlex.split(script.split(";")[0])
    assert argv[0] == "slogate", f"container {container['name']} does not run slogate: {argv}"
    return argv[1:]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_document_validates_against_the_kubernetes_schemas(version: str) -> None:
    docs = _docs()
    assert [d["kind"] for d in docs] == ["ConfigMap", "Service", "Deployment", "Deployment"]
    for doc in docs:
        kv.validate(doc, version, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    """Not a rubber stamp: a typo in a container spec or a wrong type fails validation."""
    doc = _one("Deployment", "slogate-master")
    bad = yaml.safe_load(yaml.safe_dump(doc).replace("containerPort:", "containerPortt:"))
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, VERSIONS[-1], strict=True)
    worse = yaml.safe_load(yaml.safe_dump(_one("Deployment", "slogate-worker")))
    worse["spec"]["replicas"] = "three"
    with pytest.raises(kv.ValidationError):
        kv.validate(worse, VERSIONS[-1], strict=True)


def _scenario(tmp_path: Path) -> Any:
    data = _one("ConfigMap", "slogate-scenario")["data"]
    path = tmp_path / "scenario.yaml"
    path.write_text(data["scenario.yaml"])
    return load_scenario(path)


def test_the_master_runs_the_mounted_scenario_and_listens_on_the_service_port(tmp_path: Path) -> None:
    master = _container("slogate-master")
    args = parse_exactly(_slogate_argv(master))
    assert args.command == "run"
    # the scenario path is the ConfigMap's key under the volume mounted from it
    pod = _one("Deployment", "slogate-master")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v.get("configMap", {}).get("name") == "slogate-scenario")
    mount = next(m for m in master["volumeMounts"] if m["name"] == volume["name"])
    assert args.scenario == Path(mount["mountPath"]) / "scenario.yaml"
    assert "scenario.yaml" in _one("ConfigMap", "slogate-scenario")["data"]
    # the run record lands on the volume the comments tell users to `kubectl cp` from
    runs = next(m for m in master["volumeMounts"] if m["name"] == "runs")
    assert str(args.out).startswith(runs["mountPath"] + "/")

    loaded = _scenario(tmp_path)
    entries = tuple(e for e in args.allow_remote.split(",") if e)
    cidrs = tuple(e for e in entries if not e[0].isalpha())
    settings = distributed_settings(loaded.scenario, RunRequest(
        loaded, allowed_remote=cidrs, expect_workers=args.expect_workers, master_bind=args.master_bind))
    assert settings is not None, "the scenario is not a distributed run"
    service = _one("Service", "slogate-master")
    (port,) = service["spec"]["ports"]
    container_ports = {p["containerPort"] for p in master["ports"]}
    assert settings.bind_port == port["targetPort"] == port["port"]
    assert container_ports == {settings.bind_port}
    assert settings.bind_host in ("*", "0.0.0.0"), "the master must listen on the pod's address"
    assert port.get("protocol", "TCP") == "TCP"
    # the master admits workers from the pod network, and lets the load reach the target
    networks = allowed_networks(entries, resolve=lambda name: CLUSTER_IPS[name])
    assert any(n == "10.244.0.0/16" for n in networks)
    check_target_allowed(loaded.scenario.target, allow_remote=False, allowed=networks,
                         resolve=lambda name: CLUSTER_IPS[name])


def test_workers_dial_the_service_and_match_the_expected_count(tmp_path: Path) -> None:
    args = parse_exactly(_slogate_argv(_container("slogate-worker")))
    assert args.command == "worker"
    host, port = parse_master_address(args.master)
    service = _one("Service", "slogate-master")
    assert host == service["metadata"]["name"] and port == service["spec"]["ports"][0]["port"]
    spec = _scenario(tmp_path).scenario.distributed
    assert spec is not None
    assert _one("Deployment", "slogate-worker")["spec"]["replicas"] == spec.expect_workers
    assert args.join_timeout >= spec.join_timeout, "workers would give up before the master does"


def test_selectors_match_the_pods_they_select() -> None:
    master_labels = _one("Deployment", "slogate-master")["spec"]["template"]["metadata"]["labels"]
    assert _one("Service", "slogate-master")["spec"]["selector"].items() <= master_labels.items()
    for name in ("slogate-master", "slogate-worker"):
        spec = _one("Deployment", name)["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    worker_labels = _one("Deployment", "slogate-worker")["spec"]["template"]["metadata"]["labels"]
    assert not _one("Service", "slogate-master")["spec"]["selector"].items() <= worker_labels.items()


def test_a_renamed_flag_breaks_the_check() -> None:
    """argparse accepts '--master-bi' for '--master-bind': the exact-spelling check must not."""
    with pytest.raises(pytest.fail.Exception, match="not spelt"):
        parse_exactly(["run", "x.yaml", "--master-bi", "0.0.0.0:5557"])
    with pytest.raises(pytest.fail.Exception, match="rejects"):
        parse_exactly(["worker", "--master-host", "m:5557"])
