"""Alert channels against real receivers on loopback: what each sends, and how it fails.

HTTP channels post to ``AlertReceiver``; email goes to a real aiosmtpd server that requires
STARTTLS (with a certificate made here by ``openssl``) and checks a login. Every failure
must be classified transient or permanent and must never show a secret.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from checkout_monitor.alerting.channels import (
    CHANNEL_BUILDERS,
    Channel,
    DeliveryError,
    build_channel,
)
from checkout_monitor.alerting.channels.alertmanager import AlertmanagerSender
from checkout_monitor.alerting.channels.email import EmailSender, message_id
from checkout_monitor.alerting.channels.pagerduty import PagerDutySender
from checkout_monitor.alerting.channels.slack import SlackSender
from checkout_monitor.alerting.channels.webhook import WebhookSender
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.config.alerting import CHANNEL_KINDS, ChannelConfig
from support.alert_receivers import AlertReceiver
from support.prometheus_servers import Server, free_port

NOW = datetime(2024, 5, 1, 10, 12, 30, tzinfo=UTC)
STARTED = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)

# secrets that must never reach an error message (they go to logs)
ROUTING_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32"
SLACK_TOKEN = "T0ABCDEF/B0GHIJKL/sl4ckS3cretT0ken"
HEADER_SECRET = "Bearer hook-t0ken-do-not-log"
QUERY_SECRET = "qs-t0ken-do-not-log"
AM_PASSWORD = "am-passw0rd-do-not-log"
SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-passw0rd-do-not-log"
SECRETS = [ROUTING_KEY, SLACK_TOKEN, HEADER_SECRET, QUERY_SECRET, AM_PASSWORD, SMTP_PASSWORD]


def make_notification(**changes: Any) -> Notification:
    firing = Notification(
        key="eu-west/checkout-failing/guest-checkout/firing/1",
        alert_id="eu-west/checkout-failing/guest-checkout",
        status=NotificationStatus.FIRING,
        rule="checkout-failing",
        journey="guest-checkout",
        location="eu-west",
        severity="critical",
        summary="guest-checkout fails at 'pay' in eu-west: 4 of the last 5 runs",
        description="Step 'pay' failed: payment_provider_down.\nCheck the payment provider.",
        starts_at=STARTED,
        owner="payments-team",
        runbook="https://wiki.example.com/runbooks/checkout",
        generator_url="https://monitor.example.com/journeys/guest-checkout",
        labels={"alertname": "checkout-failing", "journey": "guest-checkout", "team": "pay"},
    )
    return replace(firing, **changes)


def resolved(notification: Notification) -> Notification:
    return replace(
        notification,
        key=notification.key.replace("firing", "resolved"),
        status=NotificationStatus.RESOLVED,
        ends_at=STARTED + timedelta(minutes=12),
    )


def deliver(
    name: str,
    kind: str,
    settings: dict[str, Any],
    notification: Notification,
    now: datetime = NOW,
    timeout: float = 5.0,
) -> DeliveryError | None:
    """Build the channel from config as the agent does, send once, return the failure."""
    config = ChannelConfig.model_validate({kind: settings})

    async def send() -> None:
        async with httpx.AsyncClient() as http:
            await build_channel(name, config, http, timeout).send(notification, now)

    try:
        asyncio.run(send())
    except DeliveryError as error:
        return error
    return None


def assert_no_secret(error: DeliveryError) -> None:
    message = str(error)
    for secret in SECRETS:
        assert secret not in message
    assert "://" not in message, message
    assert "127.0.0.1" not in message, message


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    with AlertReceiver() as started:
        yield started


# -- the registry ----------------------------------------------------------------------


def test_every_configured_kind_has_a_builder() -> None:
    assert set(CHANNEL_BUILDERS) == set(CHANNEL_KINDS)


@pytest.mark.parametrize(
    ("kind", "settings", "sender"),
    [
        ("alertmanager", {"url": "http://127.0.0.1:9093"}, AlertmanagerSender),
        ("webhook", {"url": "http://127.0.0.1:1/hook"}, WebhookSender),
        ("slack", {"webhook_url": "https://hooks.slack.com/services/x"}, SlackSender),
        ("pagerduty", {"routing_key": ROUTING_KEY}, PagerDutySender),
        ("email", {"host": "mail", "from": "cm@example.com", "to": ["a@b.c"]}, EmailSender),
    ],
)
def test_build_channel_picks_the_sender_for_the_kind(
    kind: str, settings: dict[str, Any], sender: type
) -> None:
    config = ChannelConfig.model_validate({kind: settings})

    async def build() -> Channel:
        async with httpx.AsyncClient() as http:
            return build_channel("ops", config, http, 5.0)

    channel = asyncio.run(build())
    assert isinstance(channel, sender)
    assert channel.name == "ops"


# -- Alertmanager ------------------------------------------------------------------------


def test_alertmanager_firing_posts_one_v2_alert_that_outlives_four_resends(
    receiver: AlertReceiver,
) -> None:
    notification = make_notification(labels={"team-name": "pay"})
    settings = {"url": receiver.url, "resend_interval": "30s"}

    assert deliver("am", "alertmanager", settings, notification) is None

    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/api/v2/alerts")
    assert request.header("content-type") == "application/json"
    [alert] = request.json
    assert alert == {
        "labels": {
            # present even though the notification's own labels lack them
            "alertname": "checkout-failing",
            "journey": "guest-checkout",
            "location": "eu-west",
            "severity": "critical",
            "team_name": "pay",  # a config name made a valid label name
        },
        "annotations": {
            "summary": notification.summary,
            "description": notification.description,
            "owner": "payments-team",
            "runbook_url": "https://wiki.example.com/runbooks/checkout",
        },
        "startsAt": "2024-05-01T10:00:00.000Z",
        "endsAt": "2024-05-01T10:14:30.000Z",  # now + 4 x 30s
        "generatorURL": "https://monitor.example.com/journeys/guest-checkout",
    }


def test_alertmanager_resolved_ends_when_the_alert_resolved(receiver: AlertReceiver) -> None:
    notification = resolved(make_notification(owner=None, runbook=None, generator_url=None))

    assert deliver("am", "alertmanager", {"url": receiver.url}, notification) is None

    [alert] = receiver.wait_for(1)[0].json
    assert alert["endsAt"] == "2024-05-01T10:12:00.000Z"
    assert set(alert["annotations"]) == {"summary", "description"}
    assert "generatorURL" not in alert


def test_a_real_alertmanager_takes_the_alert_and_its_resolution(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
    port = free_port()
    alertmanager = Server(
        [
            "/usr/bin/prometheus-alertmanager",
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        f"http://127.0.0.1:{port}",
        "/-/ready",
        tmp_path / "alertmanager.log",
    )
    try:
        now = datetime.now(UTC)
        firing = make_notification(starts_at=now - timedelta(minutes=5))
        settings = {"url": alertmanager.url}

        assert deliver("am", "alertmanager", settings, firing, now=now) is None
        active = httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json()
        assert [alert["labels"]["alertname"] for alert in active] == ["checkout-failing"]
        assert active[0]["status"]["state"] == "active"

        done = replace(firing, status=NotificationStatus.RESOLVED, ends_at=now)
        assert deliver("am", "alertmanager", settings, done, now=now) is None
        assert httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json() == []
    finally:
        alertmanager.stop()


# -- generic webhook ---------------------------------------------------------------------


def test_webhook_posts_the_versioned_payload_with_its_idempotency_key(
    receiver: AlertReceiver,
) -> None:
    notification = make_notification(reminder=True)
    settings = {
        "url": f"{receiver.url}/hook",
        "headers": {"Authorization": HEADER_SECRET, "idempotency-key": "not-this"},
    }

    assert deliver("hook", "webhook", settings, notification) is None

    [request] = receiver.wait_for(1)
    assert request.path == "/hook"
    assert request.header("authorization") == HEADER_SECRET
    assert request.header("idempotency-key") == notification.key
    assert request.json == {
        "version": "1",
        "key": notification.key,
        "alert_id": notification.alert_id,
        "status": "firing",
        "reminder": True,
        "rule": "checkout-failing",
        "journey": "guest-checkout",
        "location": "eu-west",
        "severity": "critical",
        "summary": notification.summary,
        "description": notification.description,
        "owner": "payments-team",
        "runbook": "https://wiki.example.com/runbooks/checkout",
        "starts_at": "2024-05-01T10:00:00.000Z",
        "ends_at": None,
        "generator_url": "https://monitor.example.com/journeys/guest-checkout",
        "labels": notification.labels,
    }


def test_webhook_resolved_carries_its_end_and_any_2xx_is_success(
    receiver: AlertReceiver,
) -> None:
    receiver.set_status(204)
    notification = resolved(make_notification())

    assert deliver("hook", "webhook", {"url": receiver.url}, notification) is None

    body = receiver.wait_for(1)[0].json
    assert (body["status"], body["ends_at"]) == ("resolved", "2024-05-01T10:12:00.000Z")
    assert body["key"] == notification.key


# -- Slack -------------------------------------------------------------------------------


def slack_text(body: dict[str, Any]) -> str:
    return "\n".join(block["text"]["text"] for block in body["blocks"])


def test_slack_firing_says_what_broke_who_owns_it_and_where_the_runbook_is(
    receiver: AlertReceiver,
) -> None:
    notification = make_notification(summary="Total <wrong> & discount lost")
    settings = {"webhook_url": f"{receiver.url}/services/{SLACK_TOKEN}"}

    assert deliver("ops", "slack", settings, notification) is None

    [request] = receiver.wait_for(1)
    assert request.path == f"/services/{SLACK_TOKEN}"
    body = request.json
    assert body["text"].startswith(":red_circle: FIRING: checkout-failing on guest-checkout")
    assert "Total &lt;wrong&gt; &amp; discount lost" in body["text"]
    blocks = slack_text(body)
    assert "*FIRING: checkout-failing* on guest-checkout (eu-west)" in blocks
    assert "Failing since 2024-05-01 10:00:00 UTC (12m30s so far)." in blocks
    assert "Check the payment provider." in blocks
    assert "*Owner:* payments-team" in blocks
    assert "<https://wiki.example.com/runbooks/checkout|open the runbook>" in blocks


def test_slack_resolved_says_it_works_again_and_how_long_it_lasted(
    receiver: AlertReceiver,
) -> None:
    settings = {"webhook_url": f"{receiver.url}/services/{SLACK_TOKEN}"}

    assert deliver("ops", "slack", settings, resolved(make_notification(runbook=None))) is None

    body = receiver.wait_for(1)[0].json
    assert body["text"].startswith(":white_check_mark: RESOLVED: checkout-failing")
    blocks = slack_text(body)
    assert "*It works again.* Resolved after 12m (from 2024-05-01 10:00:00 UTC" in blocks
    assert "*What was wrong:*" in blocks
    assert "*Runbook:* none" in blocks


def test_slack_reminder_says_still_firing(receiver: AlertReceiver) -> None:
    settings = {"webhook_url": f"{receiver.url}/services/{SLACK_TOKEN}"}

    assert deliver("ops", "slack", settings, make_notification(reminder=True)) is None

    assert "STILL FIRING: checkout-failing" in receiver.wait_for(1)[0].json["text"]


# -- PagerDuty ---------------------------------------------------------------------------


def test_pagerduty_trigger_carries_the_dedup_key_details_and_runbook_link(
    receiver: AlertReceiver,
) -> None:
    receiver.set_status(202, '{"status":"success","dedup_key":"x"}')
    notification = make_notification(summary="x" * 2000, severity="page-now")
    settings = {"routing_key": ROUTING_KEY, "url": f"{receiver.url}/v2/enqueue"}

    assert deliver("pd", "pagerduty", settings, notification) is None

    [request] = receiver.wait_for(1)
    assert request.path == "/v2/enqueue"
    event = request.json
    payload = event.pop("payload")
    assert event == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": notification.alert_id,
        "links": [{"href": "https://wiki.example.com/runbooks/checkout", "text": "Runbook"}],
        "client": "checkout-monitor",
        "client_url": "https://monitor.example.com/journeys/guest-checkout",
    }
    assert len(payload["summary"]) == 1024
    assert payload["source"] == "eu-west"
    assert payload["severity"] == "error"  # not one of PagerDuty's four
    assert (payload["component"], payload["group"]) == ("guest-checkout", "checkout-failing")
    assert payload["custom_details"]["owner"] == "payments-team"
    assert payload["custom_details"]["description"] == notification.description


def test_pagerduty_resolve_carries_only_the_key_action_and_dedup_key(
    receiver: AlertReceiver,
) -> None:
    receiver.set_status(202)
    notification = resolved(make_notification())
    settings = {"routing_key": ROUTING_KEY, "url": receiver.url}

    assert deliver("pd", "pagerduty", settings, notification) is None

    assert receiver.wait_for(1)[0].json == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": notification.alert_id,
    }


# -- how HTTP channels fail --------------------------------------------------------------


def http_settings(kind: str, base: str) -> dict[str, Any]:
    """Each HTTP kind pointed at ``base``, with a secret wherever the kind keeps one."""
    with_password = base.replace("http://", f"http://am:{AM_PASSWORD}@")
    settings: dict[str, dict[str, Any]] = {
        "alertmanager": {"url": with_password},
        "webhook": {
            "url": f"{base}/hook?token={QUERY_SECRET}",
            "headers": {"Authorization": HEADER_SECRET},
        },
        "slack": {"webhook_url": f"{base}/services/{SLACK_TOKEN}"},
        "pagerduty": {"routing_key": ROUTING_KEY, "url": f"{base}/v2/enqueue"},
    }
    return settings[kind]


HTTP_KINDS = ["alertmanager", "webhook", "slack", "pagerduty"]
KIND_SECRET = {
    "alertmanager": AM_PASSWORD,
    "webhook": HEADER_SECRET,
    "slack": SLACK_TOKEN,
    "pagerduty": ROUTING_KEY,
}


@pytest.mark.parametrize("kind", HTTP_KINDS)
@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)],
)
def test_http_answers_are_transient_or_permanent_and_never_show_a_secret(
    receiver: AlertReceiver, kind: str, status: int, transient: bool
) -> None:
    settings = http_settings(kind, receiver.url)
    url = settings.get("url") or settings["webhook_url"]
    # a receiver that echoes the request back, secrets and all, as some do in errors
    echo = f"rejected POST {url} from {receiver.url} with {KIND_SECRET[kind]}"
    receiver.set_status(status, echo)

    error = deliver("ops", kind, settings, make_notification())

    assert error is not None
    assert error.transient is transient
    assert str(error).startswith(f"{kind} channel 'ops': HTTP {status}: rejected POST")
    assert_no_secret(error)


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_closed_port_is_transient_and_never_shows_a_secret(kind: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"

    error = deliver("ops", kind, http_settings(kind, closed), make_notification())

    assert error is not None
    assert error.transient
    assert str(error) == f"{kind} channel 'ops': could not reach the receiver (ConnectError)"
    assert_no_secret(error)
    # httpx's own error, whose text names the URL, stays out of logged tracebacks
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_a_receiver_that_never_answers_times_out_as_transient() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"

        error = deliver(
            "ops", "slack", http_settings("slack", base), make_notification(), timeout=0.3
        )

    assert error is not None
    assert error.transient
    assert str(error) == "slack channel 'ops': no answer within 0.3s"


def test_a_long_error_page_is_cut_to_a_short_snippet(receiver: AlertReceiver) -> None:
    receiver.set_status(502, "<html>" + "Bad gateway " * 1000 + "</html>")

    error = deliver("ops", "webhook", {"url": receiver.url}, make_notification())

    assert error is not None
    _, shown = str(error).split("HTTP 502: ", 1)
    assert shown.startswith("<html>Bad gateway Bad gateway")
    assert len(shown) <= 200


# -- email -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


@dataclass
class MailHandler:
    """aiosmtpd's handler: keeps what arrives; the replies can be set to refuse."""

    rcpt_reply: str = "250 OK"
    data_reply: str = "250 Message accepted"
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply.startswith("250"):
            raw = envelope.original_content or b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return self.data_reply


def check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd replies 535


@dataclass
class MailServer:
    handler: MailHandler
    port: int
    controller: Controller


@pytest.fixture
def start_mail_server(
    certificate: tuple[Path, Path],
) -> Iterator[Callable[[], MailServer]]:
    """Real SMTP servers on loopback: STARTTLS required, then AUTH; all stopped after."""
    started: list[Controller] = []

    def start() -> MailServer:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*certificate)
        handler = MailHandler()
        port = free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=tls,
            require_starttls=True,
            authenticator=check_login,
            auth_required=True,
            auth_require_tls=True,
        )
        controller.start()
        started.append(controller)
        return MailServer(handler, port, controller)

    yield start
    for controller in started:
        if controller._thread is not None:  # one a test already stopped
            controller.stop()


def email_settings(certificate: tuple[Path, Path], port: int, **changes: Any) -> dict[str, Any]:
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "ca_file": str(certificate[0]),
        "from": "checkout-monitor@example.com",
        "to": ["oncall@example.com", "shop-owner@example.com"],
    }
    return settings | changes


def test_email_arrives_over_starttls_with_login_and_a_stable_message_id(
    start_mail_server: Callable[[], MailServer], certificate: tuple[Path, Path]
) -> None:
    server = start_mail_server()
    settings = email_settings(certificate, server.port)
    notification = make_notification()

    assert deliver("mail", "email", settings, notification) is None
    assert deliver("mail", "email", settings, notification) is None  # a retry, say

    first, again = server.handler.messages
    assert server.handler.recipients[0] == ["oncall@example.com", "shop-owner@example.com"]
    assert first["Subject"] == notification.title
    assert first["From"] == "checkout-monitor@example.com"
    assert first["To"] == "oncall@example.com, shop-owner@example.com"
    assert first["Message-ID"] == again["Message-ID"] == message_id(notification.key)
    body = first.get_content().replace("\r\n", "\n")
    assert body.startswith("FIRING: checkout-failing on guest-checkout (eu-west)")
    for expected in (
        notification.summary,
        notification.description,
        "Owner:   payments-team",
        "Runbook: https://wiki.example.com/runbooks/checkout",
        "Failing since 2024-05-01 10:00:00 UTC (12m30s so far).",
    ):
        assert expected in body


def test_a_resolved_email_has_its_own_message_id_and_says_how_long_it_lasted(
    start_mail_server: Callable[[], MailServer], certificate: tuple[Path, Path]
) -> None:
    server = start_mail_server()
    firing = make_notification()

    assert (
        deliver("mail", "email", email_settings(certificate, server.port), resolved(firing)) is None
    )

    [message] = server.handler.messages
    assert message["Subject"] == "[RESOLVED] checkout-failing: guest-checkout (eu-west)"
    assert message["Message-ID"] != message_id(firing.key)
    assert "Resolved after 12m (from 2024-05-01 10:00:00 UTC to 2024-05-01 10:12:00 UTC)." in (
        message.get_content()
    )


@pytest.mark.parametrize(
    ("changes", "replies", "transient", "says"),
    [
        ({"password": "wrong-passw0rd"}, {}, False, "SMTP 535"),
        ({}, {"rcpt_reply": "550 5.1.1 No such user"}, False, "refused every recipient (SMTP 550)"),
        ({}, {"rcpt_reply": "450 4.2.1 Mailbox busy"}, True, "refused every recipient (SMTP 450)"),
        ({}, {"data_reply": "451 4.3.0 Try again later"}, True, "SMTP 451: 4.3.0 Try again later"),
        ({"starttls": False, "username": None, "password": None}, {}, False, "SMTP 530"),
        ({"ca_file": None}, {}, True, "TLS failed (SSLCertVerificationError"),
    ],
    ids=[
        "bad-password",
        "no-such-user",
        "mailbox-busy",
        "try-later",
        "no-starttls",
        "untrusted",
    ],
)
def test_smtp_failures_are_transient_or_permanent_and_never_show_the_password(
    start_mail_server: Callable[[], MailServer],
    certificate: tuple[Path, Path],
    changes: dict[str, Any],
    replies: dict[str, str],
    transient: bool,
    says: str,
) -> None:
    server = start_mail_server()
    for reply, text in replies.items():
        setattr(server.handler, reply, text)
    settings = email_settings(certificate, server.port, **changes)

    error = deliver("mail", "email", settings, make_notification())

    assert error is not None
    assert error.transient is transient
    assert str(error).startswith("email channel 'mail': ")
    assert says in str(error)
    assert "passw0rd" not in str(error)
    assert server.handler.messages == []


def test_a_stopped_mail_server_is_transient(
    start_mail_server: Callable[[], MailServer], certificate: tuple[Path, Path]
) -> None:
    server = start_mail_server()
    server.controller.stop()

    error = deliver("mail", "email", email_settings(certificate, server.port), make_notification())

    assert error is not None
    assert error.transient
    assert str(error) == "email channel 'mail': could not reach the server (ConnectionRefusedError)"
