"""The one redaction module: a secret is found however a page or a server spells it (audit
issue 13, findings 1-5), and traces keep no cookies or credentials. Each finding has a test
here that failed before the fix; test_secret_canary.py checks the same end to end."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from checkout_monitor.config.loader import builtin_profiles, parse_config
from checkout_monitor.config.model import JourneyConfig
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.errors import ConfigError
from checkout_monitor.evidence.redaction import (
    PLACEHOLDER,
    REDACTED,
    EvidenceRedactor,
    LogRedaction,
    Redactor,
    redact,
    without_credentials,
)
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from checkout_monitor.run.attempts import run_with_retries
from checkout_monitor.run.journey import JourneyDefinition, JourneyRun
from checkout_monitor.run.plan import PlannedJourney
from support.secret_search import views

CODE = "abc123xy"
CARD_NAME = "Zoe O'Hara & Sons"
EMAIL = "zoe.shopper@example.com"
SECRETS = [CODE, CARD_NAME, EMAIL, "Bearer tok-9f2"]
X = "X"
REDACTOR = Redactor(SECRETS, X)

# --- finding 1: any case ---------------------------------------------------------------
CASES = [
    ("Code ABC123XY is not valid", "Code X is not valid"),  # the demo shop upper-cases
    ("code Abc123Xy", "code X"),
    ("ZOE.SHOPPER@EXAMPLE.COM", X),
    ("bearer TOK-9F2", X),
]

# --- finding 3: every HTML, URL and JSON escape, mixed and nested ----------------------
ESCAPES = [
    ("Zoe O&#39;Hara &amp; Sons", X),  # the demo shop's own escaping
    ("Zoe O&#x27;Hara &#38; Sons", X),
    ("Zoe O&#039;Hara &#x0026; Sons", X),  # leading zeros
    ("Zoe O&#39Hara &amp Sons", X),  # no ";", as browsers allow
    ("Zoe O&apos;Hara &AMP; Sons", X),
    ("ZOE O&#39;HARA &amp; SONS", X),  # escaped and upper-cased
    ("Zoe+O%27Hara+%26+Sons", X),  # a form post
    ("Zoe%20O%27hara%20%26%20Sons", X),
    ("Zoe O\\u0027Hara \\u0026 Sons", X),  # JSON, JavaScript
    ("Zoe O\\x27Hara \\x26 Sons", X),
    ("Zoe O\\'Hara & Sons", X),  # a backslash-escaped quote
    ("Zoe O&amp;#39;Hara &amp;amp; Sons", X),  # escaped twice
    ("Zoe O%2527Hara %26 Sons", X),
    ("%61%62%63%31%32%33%78%79", X),  # every character escaped
    ("&#97;BC&#x31;23xy", X),  # mixed
    ("zoe.shopper%40example.com", X),
    ('{"email":"zoe.shopper\\u0040example.com"}', '{"email":"X"}'),
    ("not a secret: abc123 &amp; O'Hara", "not a secret: abc123 &amp; O'Hara"),
]


def _b64(data: bytes, urlsafe: bool = False) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()


# --- base64, where it can be seen ------------------------------------------------------
BASE64 = [
    _b64(b"Authorization: Bearer tok-9f2 " + f'{{"email":"{EMAIL}"}}'.encode()),
    _b64(b"x" + EMAIL.encode() + b"yy"),
    _b64(b"xy" + EMAIL.upper().encode(), urlsafe=True),
    _b64(b'{"name":"' + CARD_NAME.encode() + b'"}', urlsafe=True),
]


@pytest.mark.parametrize(("text", "expected"), CASES + ESCAPES)
def test_a_secret_is_found_in_any_case_and_escape(text: str, expected: str) -> None:
    assert REDACTOR.text(text) == expected


@pytest.mark.parametrize("encoded", BASE64)
def test_a_long_secret_is_found_in_base64_at_any_alignment(encoded: str) -> None:
    redacted = REDACTOR.text(encoded)
    assert X in redacted
    decoded = views(redacted.encode())  # at every alignment, standard and URL-safe
    assert not any(s.lower().encode() in v for s in (EMAIL, CARD_NAME) for v in decoded)


def test_evidence_and_reports_use_the_same_matching() -> None:
    redactor = EvidenceRedactor(SECRETS)
    assert (
        redactor.text("<p>Code ABC123XY is not valid</p>")
        == f"<p>Code {PLACEHOLDER} is not valid</p>"
    )
    assert redactor.text("Zoe O&#39;Hara &amp; Sons") == PLACEHOLDER
    assert redact("Code ABC123XY", [CODE]) == f"Code {REDACTED}"


def test_base64_of_a_short_secret_is_left_alone() -> None:
    """Too few characters to tell from chance: "dGVzdA" would shred hashes and images."""
    short = Redactor(["abc"], X)
    assert short.text(_b64(b"abc abc")) == _b64(b"abc abc")


# --- finding 5: short secrets, as whole tokens -----------------------------------------
SHORT = [
    ("refuse ZQ8K", "refuse X"),
    ("zq8k,zq8k.", "X,X."),
    ("code=zq8k&x=1", "code=X&x=1"),
    ("%7A%71%38%6B", X),
    ("zq8kx xzq8k zq8k1 zq8k_a", "zq8kx xzq8k zq8k1 zq8k_a"),  # inside longer words: kept
]


@pytest.mark.parametrize(("text", "expected"), SHORT)
def test_a_short_secret_is_redacted_as_a_whole_token(text: str, expected: str) -> None:
    assert Redactor(["zq8k"], X).text(text) == expected


@pytest.mark.parametrize("value", ["${SHORT}", "x${SHORT}z"], ids=["whole", "inside-a-word"])
def test_a_short_secret_is_never_printed_in_a_config_error(value: str) -> None:
    text = f"""
location: lab
defaults: {{step_timeout: "{value}"}}
storefronts: {{shop: {{extends: demo, base_url: "http://127.0.0.1:1"}}}}
journeys: [{{journey: product-to-checkout, storefront: shop}}]
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "config.yaml", Path(), {"SHORT": "ab1"})
    message = str(caught.value)
    assert "step_timeout" in message
    assert "ab1" not in message, message


# --- finding 2: the log carries no raw step name ---------------------------------------
class _FailingRunner:
    """A runner whose attempts fail at a step named after a secret discount code."""

    async def run(self, planned: PlannedJourney, *, attempt: int, trace: bool) -> JourneyResult:
        step = StepResult(
            f"refuse {CODE.upper()}", StepStatus.FAILED, 0.1, FailureKind.ASSERTION, "no"
        )
        return JourneyResult(
            name=planned.name,
            journey="discount-codes",
            storefront="shop",
            location="lab",
            started_at=datetime.now(UTC),
            duration_seconds=0.1,
            steps=(step,),
            attempt=attempt,
        )


async def _nothing(run: JourneyRun) -> None:
    return None


def test_a_retry_is_logged_with_the_step_name_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    planned = PlannedJourney(
        config=JourneyConfig.model_validate({"journey": "discount-codes", "storefront": "shop"}),
        definition=JourneyDefinition("discount-codes", _nothing, "a stand-in"),
        storefront="shop",
        profile=StorefrontProfile.model_validate(builtin_profiles()["demo"]),
        step_timeout=5,
        journey_timeout=10,
        navigation_retries=0,
        base_dir=Path(),
        retries=1,
    )
    with caplog.at_level(logging.INFO, logger="checkout_monitor"):
        runner: Any = _FailingRunner()
        result = asyncio.run(run_with_retries(runner, planned, secrets=[CODE]))
    assert result.attempt == 2
    assert "trying again" in caplog.text
    assert CODE.upper() not in caplog.text and CODE not in caplog.text
    assert f"refuse {PLACEHOLDER}" in caplog.text


# --- finding 4: traces keep no cookies and no credentials ------------------------------
SESSION = "." + _b64(b"x\x9c compressed email", urlsafe=True)
NETWORK = {
    "type": "resource-snapshot",
    "snapshot": {
        "request": {
            "url": "http://shop/cart",
            "headers": [
                {"name": "Cookie", "value": f"shop_session={SESSION}"},
                {"name": "Authorization", "value": "Basic dXNlcjpwYXNz"},
                {"name": "Accept", "value": "text/html"},
            ],
            "cookies": [{"name": "shop_session", "value": SESSION}],
        },
        "response": {
            "status": 200,
            "headers": [{"name": "set-cookie", "value": f"shop_session={SESSION}; HttpOnly"}],
            "cookies": [{"name": "shop_session", "value": SESSION}],
        },
    },
}


def test_trace_network_records_lose_cookies_and_credentials(tmp_path: Path) -> None:
    source, target = tmp_path / "raw.zip", tmp_path / "clean.zip"
    other = {"type": "before", "params": {"headers": {"Proxy-Authorization": "Basic eDp5"}}}
    with zipfile.ZipFile(source, "w") as raw:
        raw.writestr("trace.network", json.dumps(NETWORK) + "\n")
        raw.writestr("trace.trace", json.dumps(other) + "\n" + '{"type":"log"}\n')
        raw.writestr("resources/abc.json", json.dumps(NETWORK["snapshot"], indent=1))
    EvidenceRedactor([]).zip_file(source, target)
    with zipfile.ZipFile(target) as clean:
        network = json.loads(clean.read("trace.network").decode().splitlines()[0])
        events = clean.read("trace.trace").decode().splitlines()
        resource = json.loads(clean.read("resources/abc.json"))
    everything = json.dumps([network, events, resource])
    assert SESSION not in everything and "dXNlcjpwYXNz" not in everything
    assert "eDp5" not in everything
    request = network["snapshot"]["request"]
    assert request["cookies"] == [] and network["snapshot"]["response"]["cookies"] == []
    # the header's name stays, so a reader sees that one was sent
    assert {"name": "Cookie", "value": PLACEHOLDER} in request["headers"]
    assert {"name": "Accept", "value": "text/html"} in request["headers"]
    assert resource["request"]["cookies"] == []
    assert events[1] == '{"type":"log"}'  # lines without credentials are kept byte for byte


def test_records_that_are_not_json_pass_through() -> None:
    data = b"Cookie: not json\n\x89PNG"
    assert without_credentials(data) == data


def test_every_log_line_is_redacted_whoever_logs_it() -> None:
    """A library's line (tenacity quoting a URL) and a traceback go through the filter."""
    stream = io.StringIO()
    logger = logging.getLogger("test_redaction.isolated")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    redaction = LogRedaction()
    redaction.install(logger)
    redaction.install(logger)  # once is enough
    assert handler.filters == [redaction]
    redaction.add([CODE])
    try:
        logger.warning("Retrying in %s as it raised %s", "0.25s", f"net error at /x?c={CODE}")
        try:
            raise ValueError(f"code {CODE.upper()} refused")
        except ValueError:
            logger.exception("a bug")
        redaction.add(["tok-9f2zz"])  # a reload adds; the earlier secrets stay
        logger.warning("%s and %s", CODE, "tok-9f2zz")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert CODE not in text.lower() and "tok-9f2zz" not in text
    assert "ValueError: code <value from the environment> refused" in text
    assert text.count(REDACTED) == 4, text
