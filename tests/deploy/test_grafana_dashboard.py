"""The Grafana dashboard in deploy/grafana/: every panel's query, and every variable's, returns
data from a real Prometheus scraping a real `serve` agent that runs journeys against the demo
shop (one failing on a fault, with an alert delivered to a real receiver); it names only
series the agent exports; and its provisioning files and compose service agree."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.cli_support import REPO, write_shop_config
from support.prometheus_servers import Server, start_prometheus, wait_until

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD_FILE = GRAFANA / "dashboards" / "checkout-monitor.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
JOURNEYS = ["product-to-checkout", "product-images", "discount-codes"]
# Grafana's own variables, as it fills them in: windows that hold every sample of the test
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
# series Prometheus makes itself for each target; the agent cannot export them
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset",
}  # fmt: skip
DATA_WAIT = 90  # seconds: the agent's first runs, then a failure, an alert and its delivery


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD_FILE.read_text())
    return dashboard


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested ones (collapsed rows hold theirs) included."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _query_panels() -> list[dict[str, Any]]:
    return [p for p in _panels(_dashboard()["panels"]) if p["type"] != "row"]


def _variables() -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = _dashboard()["templating"]["list"]
    return variables


@dataclass(frozen=True)
class Target:
    panel: str
    ref: str
    expr: str
    over_time: bool  # a time series panel: Grafana asks for a range

    def __str__(self) -> str:
        return f"{self.panel} [{self.ref}]"


TARGETS = [
    Target(panel["title"], target["refId"], target["expr"], panel["type"] == "timeseries")
    for panel in _query_panels()
    for target in panel["targets"]
]


def _label_values(variable: dict[str, Any]) -> tuple[str, str]:
    """``label_values(selector, label)`` of a query variable, split in two."""
    query = variable["query"]
    text = query["query"] if isinstance(query, dict) else query
    found = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", text.strip())
    assert found, f"variable {variable['name']}: not label_values(selector, label): {text}"
    return found[1], found[2]


def _regex_escaped(value: str) -> str:
    """As Grafana escapes a multi-value variable's values for a Prometheus regex."""
    return re.sub(r"([$^*{}\[\]'+?.()|\\])", r"\\\\\1", value)


def _metric_names(expr: str) -> set[str]:
    """The series names an expression reads: what is left once strings, matchers, ranges,
    label lists, functions and keywords are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    words = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\s*(\(?)", text)
    return {word for word, call in words if not call and word not in PROMQL_WORDS}


def _exported_names(metrics_text: str) -> set[str]:
    return {
        re.split(r"[{ ]", line, maxsplit=1)[0]
        for line in metrics_text.splitlines()
        if line and not line.startswith("#")
    }


# --- a real Prometheus scraping a real agent ------------------------------------------------


@dataclass
class Lab:
    prometheus: Server
    agent: AgentProcess
    started: float
    variables: dict[str, str]  # "$name" and "${name}": what Grafana puts in their place
    values: dict[str, list[str]]  # what each variable lists

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.prometheus.url}{path}", params=params, timeout=10)
        assert answer.status_code == 200, f"{path} {params}: {answer.text}"
        return answer.json()["data"]

    def resolve(self, expr: str) -> str:
        """The expression as Grafana sends it, with every variable filled in."""
        for name, value in {**GRAFANA_VARIABLES, **self.variables}.items():
            expr = expr.replace(name, value)
        assert "$" not in expr, f"a variable the test does not know: {expr}"
        return expr


def _write_config(path: Path, shop: DemoShop, receiver: AlertReceiver) -> Path:
    config = write_shop_config(path, shop)
    document = yaml.safe_load(config.read_text())
    document["journeys"] += [{"journey": name, "storefront": "shop"} for name in JOURNEYS[1:]]
    document["alerting"] = {
        "state_dir": str(path.parent / "state"),
        "min_firing": "0s",
        "min_resolved": "0s",
        "rules": [{"name": "checkout-failing", "consecutive_failures": 1}],
        "channels": {"hook": {"webhook": {"url": f"{receiver.url}/hook"}}},
    }
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return config


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The shop declines payments, so product-to-checkout fails (and alerts) while the other
    journeys pass; Prometheus scrapes every second, the agent runs each journey every 2s."""
    tmp = tmp_path_factory.mktemp("grafana")
    shop = DemoShop(faults=["payment-declines"]).start()
    receiver = AlertReceiver().start()
    agent: AgentProcess | None = None
    prometheus: Server | None = None
    try:
        config = _write_config(tmp / "config.yaml", shop, receiver)
        agent = AgentProcess(["--config", str(config), "--interval", "2s"], tmp)
        started = time.time()
        prometheus = start_prometheus(tmp, f"127.0.0.1:{agent.port}")
        yield Lab(prometheus, agent, started, {}, {})
    finally:
        if prometheus is not None:
            prometheus.stop()
        if agent is not None:
            agent.kill()
        receiver.stop()
        shop.stop()


@pytest.fixture(scope="module")
def resolved(lab: Lab) -> Lab:
    """The dashboard's variables, each resolved as Grafana does on opening it ("All" picked):
    its label_values() over the series Prometheus holds, with the variables before it filled in."""
    for variable in _variables():
        if variable["type"] != "query":
            continue
        name = variable["name"]
        selector, label = _label_values(variable)
        selector = lab.resolve(selector)
        values: set[str] = set()

        def listed(selector: str = selector, label: str = label, values: set[str] = values) -> bool:
            series = lab.get("/api/v1/series", **{"match[]": selector, "start": lab.started})
            values.update(s[label] for s in series if label in s)
            return bool(values)

        try:
            wait_until(listed, DATA_WAIT, f"values of ${name}")
        except AssertionError:
            raise AssertionError(f"variable ${name} lists nothing: {selector}") from None
        lab.values[name] = sorted(values)
        lab.variables[f"${{{name}}}"] = lab.variables[f"${name}"] = variable.get("allValue") or (
            "(" + "|".join(_regex_escaped(v) for v in sorted(values)) + ")"
        )
    # longest first, so $journey never eats the start of a longer name
    lab.variables = dict(sorted(lab.variables.items(), key=lambda item: -len(item[0])))
    return lab


@pytest.mark.slow
@pytest.mark.browser
def test_each_variable_lists_what_the_agent_runs(resolved: Lab) -> None:
    assert resolved.values == {
        "location": ["test-lab"],
        "storefront": ["shop"],
        "journey": sorted(JOURNEYS),
    }


def _finite(samples: list[list[Any]]) -> bool:
    return any(math.isfinite(float(value)) for _, value in samples)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_panel_query_returns_data(resolved: Lab, target: Target) -> None:
    """An instant query as a stat or bar gauge asks it, and a range query as a time series
    panel does; each must give at least one series with a number (not NaN)."""
    expr = resolved.resolve(target.expr)

    def instant() -> bool:
        series = resolved.get("/api/v1/query", query=expr)["result"]
        return any(_finite([s["value"]]) for s in series)

    def over_time() -> bool:
        series = resolved.get(
            "/api/v1/query_range", query=expr, start=resolved.started, end=time.time(), step="2s"
        )["result"]
        return any(_finite(s["values"]) for s in series)

    for ask, how in [(instant, "instant"), *([(over_time, "range")] if target.over_time else [])]:
        try:
            wait_until(ask, DATA_WAIT, how)
        except AssertionError:
            raise AssertionError(
                f"panel {target}: the {how} query returned no data: {expr}"
            ) from None


@pytest.mark.slow
@pytest.mark.browser
def test_success_ratio_shows_a_journey_that_never_passed(resolved: Lab) -> None:
    """A journey with no passed run has no success series at all: the ratio must still show
    it, at 0, not leave it out as if all were well."""
    (target,) = [t for t in TARGETS if t.panel == "Success ratio over the selected time range"]
    expr = resolved.resolve(target.expr)
    ratios: dict[str, float] = {}

    def both() -> bool:
        series = resolved.get("/api/v1/query", query=expr)["result"]
        ratios.update((s["metric"]["journey"], float(s["value"][1])) for s in series)
        # NaN until a second run of the journey in Prometheus: no run counted in the range
        wanted = [ratios.get(j, math.nan) for j in ("product-to-checkout", "product-images")]
        return all(math.isfinite(ratio) for ratio in wanted)

    wait_until(both, DATA_WAIT, f"the ratio of both journeys: {ratios}")
    assert ratios["product-to-checkout"] == 0  # the shop declines every payment
    assert ratios["product-images"] == 1


@pytest.mark.slow
@pytest.mark.browser
def test_panels_name_only_series_the_agent_exports(lab: Lab) -> None:
    wanted = {name: str(t) for t in TARGETS for name in _metric_names(t.expr)}
    wanted.update(
        (name, f"variable ${v['name']}")
        for v in _variables()
        if v["type"] == "query"
        for name in _metric_names(_label_values(v)[0])
    )
    assert "checkout_journey_success" in wanted  # the parser finds names at all
    missing: dict[str, str] = {}

    def all_exported() -> bool:
        exported = _exported_names(lab.agent.metrics()) | PROMETHEUS_OWN
        missing.clear()
        missing.update((name, where) for name, where in wanted.items() if name not in exported)
        return not missing

    try:
        wait_until(all_exported, DATA_WAIT, "every series on /metrics")
    except AssertionError:
        raise AssertionError(f"not on the agent's /metrics: {missing}") from None


# --- the dashboard's own shape ---------------------------------------------------------------


def test_metric_names_are_read_from_expressions() -> None:
    expr = (
        'sum by (le, job) (rate(a_bucket{x=~"b|c", y="sum(d)"}[5m])) / on (job) '
        "group_left (location) max(b_total offset 1h) > bool 3 * time()"
    )
    assert _metric_names(expr) == {"a_bucket", "b_total"}


def test_every_panel_says_what_it_shows_and_asks_the_chosen_prometheus() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 39
    panels = list(_panels(dashboard["panels"]))
    assert len(TARGETS) >= 20
    assert len({p["id"] for p in panels}) == len(panels), "panel ids are unique"
    for panel in panels:
        assert panel.get("title"), panel
        if panel["type"] == "row":
            continue
        assert len(panel.get("description", "")) > 40, panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target.get("legendFormat"), panel["title"]
    cells: dict[tuple[int, int], str] = {}  # no panel drawn over another, none off the grid
    for panel in panels:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in cells, (panel["title"], cells.get((x, y)))
                cells[x, y] = panel["title"]
    names = [v["name"] for v in _variables()]
    assert names == ["datasource", "location", "storefront", "journey"]
    (source,) = [v for v in _variables() if v["type"] == "datasource"]
    assert source["query"] == "prometheus"
    for variable in _variables():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]
            _label_values(variable)


# --- provisioning and compose ----------------------------------------------------------------


def _compose_grafana() -> dict[str, Any]:
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    service: dict[str, Any] = compose["services"]["grafana"]
    for volume in service["volumes"]:
        name = volume.split(":")[0]
        if not name.startswith("."):
            assert name in compose["volumes"], volume
    return service


def _mounted(service: dict[str, Any], target: str) -> Path:
    """The folder of deploy/ that compose mounts at ``target`` in the container."""
    for volume in service["volumes"]:
        source, path, *_ = volume.split(":")
        if path == target and source.startswith("./"):
            return REPO / "deploy" / source
    raise AssertionError(f"nothing of deploy/ is mounted at {target}")


def test_provisioning_loads_the_dashboard_and_the_prometheus_it_asks() -> None:
    grafana = _compose_grafana()
    provisioning = _mounted(grafana, "/etc/grafana/provisioning")
    assert provisioning == GRAFANA / "provisioning"

    providers = yaml.safe_load((provisioning / "dashboards" / "checkout-monitor.yml").read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    folder = _mounted(grafana, provider["options"]["path"])
    assert sorted(folder.glob("*.json")) == [DASHBOARD_FILE]

    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert sources["apiVersion"] == 1
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus"
    (variable,) = [v for v in _variables() if v["type"] == "datasource"]
    assert source["uid"] == variable["current"]["value"]
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    assert "prometheus" in compose["services"]
    assert source["url"] == "http://prometheus:9090"
    assert "prometheus" in grafana["depends_on"]


def test_compose_grafana_is_pinned_and_closed_by_default() -> None:
    grafana = _compose_grafana()
    assert re.fullmatch(r"grafana/grafana-oss:\d+\.\d+\.\d+", grafana["image"]), grafana["image"]
    env = grafana["environment"]
    # no default password, and none needed by compose commands that do not start Grafana:
    # it is opt-in, and its entrypoint refuses to start without one
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-}"
    assert grafana["profiles"] == ["grafana"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "${GRAFANA_ANONYMOUS_VIEWER:-false}"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert grafana["ports"] == ["127.0.0.1:3000:3000"]
    assert all(v.endswith(":ro") for v in grafana["volumes"] if v.startswith("./"))


@pytest.mark.parametrize("password", ["", "chosen"])
def test_compose_grafana_starts_only_with_a_password(password: str) -> None:
    """The service's entrypoint, run by this machine's /bin/sh as the container's would
    (compose turns ``$$`` into ``$``): no password, a plain message and exit 1; with one, it
    hands over to the image's /run.sh (absent here, so the shell says so)."""
    entrypoint = [part.replace("$$", "$") for part in _compose_grafana()["entrypoint"]]
    result = subprocess.run(
        entrypoint,
        env={"PATH": os.environ["PATH"], "GF_SECURITY_ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    refused = "grafana: set GRAFANA_ADMIN_PASSWORD to the password of Grafana's admin user"
    if password:
        assert refused not in result.stderr
        assert "/run.sh" in result.stderr and result.returncode == 127, result.stderr
    else:
        assert (result.returncode, result.stderr.strip()) == (1, refused)
