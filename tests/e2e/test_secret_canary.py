"""The canary test across every output: secrets planted through ``${ENV}`` in a config are
used for real (typed into forms, sent as the order API's token and in every request's
synthetic marking, posted as discount codes the shop upper-cases, put in alert channels'
URLs, headers and keys), and appear in no output of the agent: console, log, reports,
triage, evidence, traces (every entry unpacked), alert state, run history, /metrics,
/alerts, the Pushgateway and the notifications' bodies.

Every byte is searched in any case and spelling (HTML, URL and JSON escapes, nested, base64,
zlib in base64 as a session cookie holds it), for each canary and for the marker all long
ones share (so the plus-address a journey makes of the email is caught too); the short
canary counts as a whole token. A new output must be added to a test here, or it is not
covered: see docs/security.md.
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.evidence.redaction import PLACEHOLDER
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.cli_support import run_cli, write_shop_config
from support.prometheus_servers import free_port, start_pushgateway, wait_until
from support.secret_search import contents, files_under, found_spelled

StartShop = Callable[..., DemoShop]
MARKER = "zq8cnry"  # in every long canary; nowhere else
SHORT = "CANARY_SHORT_CODE"
CANARIES = {
    "CANARY_ADMIN_TOKEN": "tok-Zq8Cnry-admin-41f",  # the shop's admin token: the order API's
    "CANARY_EMAIL": "zq8cnry.shopper@example.com",  # typed into checkout, plus-addressed too
    "CANARY_NAME": "Zq8cnry Shopper",
    # the shop escapes "'" as &#39; and "&" as &amp; (audit issue 13, finding 3)
    "CANARY_CARD_NAME": "Zq8cnry O'Hara & Sons",
    # lower case: the shop upper-cases it to check it (finding 1), a step is named after it
    # and a retry logs that name (finding 2)
    "CANARY_CODE": "zq8cnry-code",
    SHORT: "zq8k",  # under 6 characters: redacted as a whole token (finding 5)
    # a real code, so the shop accepts it and echoes it upper-cased ("Code TENOFF applied")
    # in the page and in the failed step's message (finding 1)
    "CANARY_ACCEPTED_CODE": "tenoff",
    "CANARY_SYNTHETIC": "zq8cnry-synthetic-marker",  # sent with every request
    "CANARY_USER_AGENT": "(zq8cnry-agent)",
    "CANARY_HOOK": "zq8cnry-hook-path-token",  # in the alert webhook's URL
    "CANARY_HOOK_HEADER": "Bearer zq8cnry-hook-header",
    "CANARY_SLACK": "zq8cnry-slack-path",
    "CANARY_PAGERDUTY": "zq8cnry-routing-key",
    "CANARY_AM_PASSWORD": "zq8cnry-am-password",  # in both Alertmanager URLs: user:password@
    # the journey's owner and runbook: shown on the status page and in every notification
    "CANARY_OWNER_PHONE": "zq8cnry-pager-5550",
    "CANARY_WIKI_PASSWORD": "zq8cnry-wiki-password",  # the runbook URL's user:password@
    "CANARY_RUNBOOK_TOKEN": "zq8cnry-runbook-token",  # and a token in its query string
}
OWNER = "Test team, pager ${CANARY_OWNER_PHONE}"
RUNBOOK = (
    "https://ops:${CANARY_WIKI_PASSWORD}@wiki.example.com/checkout?token=${CANARY_RUNBOOK_TOKEN}"
)


def _config(tmp_path: Path, shop: DemoShop, journeys: list[str], **extra: Any) -> Path:
    auth = {"headers": {"Authorization": "Bearer ${CANARY_ADMIN_TOKEN}"}}
    path = write_shop_config(
        tmp_path / "config.yaml",
        shop,
        storefront={
            "order_api": {"cancel": auth, "list": auth},
            "customer": {"full_name": "${CANARY_NAME}", "email": "${CANARY_EMAIL}"},
            "card": {"name": "${CANARY_CARD_NAME}"},
            "discounts": {
                "valid": [],
                "must_reject": [
                    "${CANARY_CODE}",
                    f"${{{SHORT}}}",
                    "${CANARY_ACCEPTED_CODE}",  # last: the step fails, the journey stops
                ],
            },
        },
        defaults={"retries": 1},  # a failed attempt is retried, and the retry logged
    )
    document = yaml.safe_load(path.read_text())
    document["synthetic"] = {
        "header_value": "${CANARY_SYNTHETIC}",
        "user_agent_suffix": "${CANARY_USER_AGENT}",
    }
    document["journeys"] = [
        {"journey": name, "storefront": "shop", "owner": OWNER, "runbook": RUNBOOK}
        for name in journeys
    ]
    document["artifacts"] = {"dir": str(tmp_path / "artifacts"), "traces": "always"}
    document.update(extra)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _assert_nowhere(files: list[Path], texts: list[tuple[str, str | bytes]]) -> None:
    long = [MARKER, *(v for k, v in CANARIES.items() if k != SHORT)]
    started = time.perf_counter()
    leaks = found_spelled(long, [CANARIES[SHORT]], files, texts)
    took = time.perf_counter() - started
    entries = sum(1 for path in files for _ in contents(path))
    print(
        f"canary scan: {len(files)} files, {entries} with zip entries, "
        f"{len(texts)} texts, {took:.1f}s"
    )
    assert not leaks, "canary found in:\n" + "\n".join(leaks)
    _assert_no_cookies(files)


def _assert_no_cookies(files: list[Path]) -> None:
    """Traces keep no cookie and no credential header (finding 4): the shop's session cookie
    holds the shopper's email compressed, out of any redaction's sight."""
    traces = [p for p in files if p.name == "trace.zip"]
    assert traces
    for trace in traces:
        with zipfile.ZipFile(trace) as archive:
            network = archive.read("trace.network").decode()
        records = [json.loads(line) for line in network.splitlines() if line.strip()]
        assert records, trace
        for record in records:
            snapshot = record.get("snapshot", {})
            for side in ("request", "response"):
                message = snapshot.get(side, {})
                assert message.get("cookies", []) == [], (trace, side)
                credentials = [
                    h["value"]
                    for h in message.get("headers", [])
                    if h["name"].lower() in ("cookie", "set-cookie", "authorization")
                ]
                assert set(credentials) <= {PLACEHOLDER}, (trace, side, credentials)


def _status_pages(agent: AgentProcess, journey: str) -> list[tuple[str, str | bytes]]:
    """The status page in every range, whole and for the journey, and every file it links
    under /evidence/, once the failing run is on it with its evidence."""

    def page(path: str) -> str:
        answer = agent.client.get(f"{agent.url}{path}")
        assert answer.status_code == 200, (path, answer.text)
        return answer.text

    wait_until(lambda: "/evidence/" in page("/"), 60, "the failing run's evidence on /")
    pages = [
        (f"the status page {path}", page(path))
        for range_name in ("1h", "24h", "7d", "30d")
        for path in (f"/?range={range_name}", f"/?journey={journey}&range={range_name}")
    ]
    pages.append(("the status page /", page("/")))
    links = {
        link for _, text in pages for link in re.findall(r'(?:href|src)="(/evidence/[^"]+)"', text)
    }
    # the latest failure's screenshot, trace and page, each served
    assert {link.rsplit("/", 1)[1] for link in links} == {
        "screenshot.png",
        "trace.zip",
        "page.html",
    }, links
    evidence = [(f"GET {link}", agent.client.get(f"{agent.url}{link}")) for link in links]
    assert all(answer.status_code == 200 for _, answer in evidence), evidence
    return [*pages, *((name, answer.content) for name, answer in evidence)]


def _history_files(history: Path) -> list[tuple[str, str | bytes]]:
    """The run history's database and its write-ahead log, as they are while serve runs."""
    wal = history.with_name(history.name + "-wal")
    assert history.is_file() and wal.is_file(), list(history.parent.iterdir())
    return [(f"{path} (serve running)", path.read_bytes()) for path in (history, wal)]


@pytest.mark.browser
def test_run_smoke_leaks_no_secret_into_any_output(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(faults=["payment-declines"], admin_token=CANARIES["CANARY_ADMIN_TOKEN"])
    config = _config(tmp_path, shop, ["product-to-checkout", "discount-codes", "payment-sandbox"])
    reports = [tmp_path / n for n in ("r.json", "r.html", "r.xml")]
    pushgateway = start_pushgateway(tmp_path)
    try:
        result = run_cli(
            "run-smoke", "--config", str(config), "--verbose", "--triage",
            "--json", str(reports[0]), "--html", str(reports[1]), "--junit", str(reports[2]),
            "--pushgateway", pushgateway.url, env=CANARIES,
        )  # fmt: skip
        pushed = httpx.get(f"{pushgateway.url}/metrics", timeout=5).text
    finally:
        pushgateway.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    # the canaries were used: the codes were posted, one accepted, the checkout reached payment
    assert "trying again" in result.stderr  # the retry's log line names the step
    assert "but the shop accepted it" in result.stdout  # echoed upper-cased, redacted
    assert "payment_declined" in result.stdout
    assert 'step="refuse ' in pushed  # the step named after the code was pushed, scrubbed

    written = [*reports, *files_under(tmp_path / "artifacts")]
    names = {p.name for p in written}
    assert {"trace.zip", "page.html", "screenshot.png", "console.txt"} <= names
    assert any(n.startswith("triage-") for n in names)
    _assert_nowhere(
        written,
        [("stdout", result.stdout), ("stderr", result.stderr), ("the Pushgateway", pushed)],
    )


@pytest.mark.browser
def test_serve_leaks_no_secret_into_any_output(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(admin_token=CANARIES["CANARY_ADMIN_TOKEN"])
    with AlertReceiver() as receiver:
        alerting = {
            "state_dir": str(tmp_path / "state"),
            "min_firing": "0s",
            "rules": [{"name": "discounts-broken", "consecutive_failures": 1}],
            "channels": {
                "hook": {
                    "webhook": {
                        "url": f"{receiver.url}/hook/${{CANARY_HOOK}}",
                        "headers": {"Authorization": "${CANARY_HOOK_HEADER}"},
                    }
                },
                "slack": {"slack": {"webhook_url": f"{receiver.url}/slack/${{CANARY_SLACK}}"}},
                "pager": {
                    "pagerduty": {
                        "routing_key": "${CANARY_PAGERDUTY}",
                        "url": f"{receiver.url}/pagerduty",
                    }
                },
                # an HA pair whose second member is down: its errors are logged and counted
                "am": {
                    "alertmanager": {
                        "urls": [
                            f"http://cm:${{CANARY_AM_PASSWORD}}@127.0.0.1:{port}/am"
                            for port in (receiver.port, free_port())
                        ]
                    }
                },
            },
        }
        config = _config(tmp_path, shop, ["discount-codes"], alerting=alerting)
        args = ["--config", str(config), "--interval", "2s", "--verbose"]
        with AgentProcess(args, tmp_path, env=CANARIES) as agent:
            notifications = receiver.wait_for(4, timeout=120)
            wait_until(lambda: "not delivered to am[1]" in agent.output(), 30, "a retry")
            metrics, alerts = agent.metrics(), httpx.get(f"{agent.url}/alerts").text
            status = _status_pages(agent, "discount-codes")
            history = _history_files(tmp_path / "state" / "history.sqlite3")
            code, _ = agent.stop()
        assert code == 0
        output = agent.output()

    # the channels' secrets went where they belong, and only there
    by_path = {n.path.split("/")[1]: n for n in notifications}
    assert set(by_path) == {"hook", "slack", "pagerduty", "am"}, [n.path for n in notifications]
    assert (by_path["am"].header("authorization") or "").startswith("Basic ")
    notification = by_path["hook"]
    assert notification.path == f"/hook/{CANARIES['CANARY_HOOK']}"
    assert by_path["pagerduty"].json["routing_key"] == CANARIES["CANARY_PAGERDUTY"]
    assert notification.header("authorization") == CANARIES["CANARY_HOOK_HEADER"]
    assert notification.json["rule"] == "discounts-broken"
    assert 'step="refuse ' in metrics  # the step named after the code is a label, scrubbed
    assert "trying again" in output  # the retry's log line names the step
    assert '"discounts-broken"' in alerts
    # the status page showed the failing run, its step (named after a code), the owner and
    # the runbook: each with its secrets redacted, the runbook without its user:password@
    shown = dict(status)["the status page /?journey=discount-codes&range=24h"]
    assert isinstance(shown, str)
    assert "Latest failure" in shown and "refuse " in shown
    assert "Test team, pager " in shown
    assert "https://wiki.example.com/checkout?token=" in shown

    written = files_under(tmp_path / "state", tmp_path / "artifacts")
    assert any(p.name == "history.sqlite3" for p in written)
    assert any(p.name == "alerts.json" for p in written)
    assert any(p.name == "trace.zip" for p in written)
    _assert_nowhere(
        written,
        [
            ("agent stdout and stderr", output),
            ("/metrics", metrics),
            ("/alerts", alerts),
            *status,
            *history,
            ("the webhook's body", notification.body),
            ("Slack's body", by_path["slack"].body),
            ("Alertmanager's body", by_path["am"].body),
            # everything in PagerDuty's body but the key it must carry
            (
                "PagerDuty's body",
                by_path["pagerduty"].body.replace(CANARIES["CANARY_PAGERDUTY"].encode(), b"<key>"),
            ),
        ],
    )
    assert 'member="1",result="failed"' in metrics  # by its place in urls, never its URL
