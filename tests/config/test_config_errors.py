"""Every invalid-config rule has a fixture file and its exact message, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_monitor.config.loader import load_config
from checkout_monitor.errors import ConfigError
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import check_journeys_exist
from support.cli_support import REPO, run_cli

FIXTURES = REPO / "tests" / "fixtures" / "invalid-configs"

CASES = [
    (
        "bad-duration",
        "{file}:2: defaults.step_timeout: '90 seconds' is not a duration: use a number with a unit, e.g. 500ms, 90s, 15m, 1h30m",
    ),
    (
        "bad-name",
        "{file}:1: location: 'EU West' is not a valid name: use lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (at most 63 characters)",
    ),
    (
        "bad-regex",
        "{file}:9: storefronts.shop.checkout.confirmation.order_number_pattern: '(CM-\\\\d+' is not a valid regular expression: missing ), unterminated subpattern at position 0",
    ),
    (
        "bad-url",
        "{file}:4: storefronts.shop.base_url: 'shop.example.com' is not an http(s) URL such as https://shop.example.com",
    ),
    (
        "duplicate-journey-name",
        "{file}:8: journeys[1]: a second journey named 'product-to-checkout'; give it a distinct 'name'",
    ),
    ("duplicate-key", "{file}:2: location: this key appears twice"),
    (
        "duration-out-of-range",
        "{file}:8: journeys[0].journey_timeout: must be between 1s and 60m, got 2h",
    ),
    (
        "duration-without-unit",
        "{file}:2: defaults.step_timeout: 30 is not a duration: use a number with a unit, e.g. 500ms, 90s, 15m, 1h30m",
    ),
    ("empty", "{file}: the file is empty"),
    (
        "history-retention-zero",
        "{file}:2: history.retention_days: Input should be greater than or equal to 1 (got 0)",
    ),
    (
        "history-size-with-unit",
        "{file}:2: history.max_megabytes: '200MB' is not a number of megabytes: write a whole number without a unit, e.g. 200",
    ),
    (
        "missing-env-var",
        "{file}:4: storefronts.shop.base_url: refers to ${CHECKOUT_MONITOR_TEST_UNSET_SHOP_URL}, but the environment variable CHECKOUT_MONITOR_TEST_UNSET_SHOP_URL is not set",
    ),
    ("missing-journeys", "{file}:1: journeys: required, but missing"),
    ("missing-required-field", "{file}:6: journeys[0].storefront: required, but missing"),
    (
        "monitor-kind-as-signal",
        "{file}:6: storefronts.shop.failure_signals[0].kind: 'browser_crash' is the monitor's own failure; use one of: timeout, http_error, connection_error, element_missing, element_hidden, overlay_blocking, assertion, image_broken, cart_add_failed, discount_rejected, discount_wrong_amount, form_rejected, payment_declined, payment_provider_down, payment_fields_unavailable, payment_redirect_failed, three_d_secure_failed, checkout_token_invalid, out_of_stock, host_not_allowed",
    ),
    ("not-a-mapping", "{file}: expected a mapping of keys at the top"),
    ("not-yaml", "{file}:5: not valid YAML: expected ',' or ']', but got ':'"),
    (
        "out-of-range",
        "{file}:2: defaults.navigation_retries: Input should be less than or equal to 5 (got 9)",
    ),
    (
        "unknown-extends",
        "{file}:3: storefronts.shop.extends: no built-in profile named 'shopify'; built in: demo, demo-boutique, demo-hosted-fields, demo-redirect, demo-boutique-hosted-fields, demo-boutique-redirect",
    ),
    (
        "unknown-failure-kind",
        "{file}:6: storefronts.shop.failure_signals[0].kind: Input should be 'timeout', 'http_error', 'connection_error', 'element_missing', 'element_hidden', 'overlay_blocking', 'assertion', 'image_broken', 'cart_add_failed', 'discount_rejected', 'discount_wrong_amount', 'form_rejected', 'payment_declined', 'payment_provider_down', 'payment_fields_unavailable', 'payment_redirect_failed', 'three_d_secure_failed', 'checkout_token_invalid', 'out_of_stock', 'host_not_allowed', 'browser_crash' or 'journey_error' (got 'card_declined')",
    ),
    (
        "unknown-journey",
        "{file}:8: journeys[1].journey: no journey named 'no-such-journey' in monitors/; available: discount-codes, payment-sandbox, product-images, product-to-checkout",
    ),
    (
        "unknown-key-journey",
        "{file}:8: journeys[0].step_timout: unknown key (did you mean 'step_timeout'? valid keys: enabled, interval, journey, journey_timeout, name, owner, place_order, retries, runbook, step_timeout, storefront, tags)",
    ),
    (
        "unknown-key-top",
        "{file}:1: locaton: unknown key (did you mean 'location'? valid keys: agent, alerting, artifacts, browser, defaults, history, journeys, location, monitors_dir, storefronts, synthetic)",
    ),
    (
        "unknown-placeholder",
        "{file}:9: storefronts.shop.checkout.pages[0].fill: unknown placeholder {card.numbr}; valid: {customer.email}, {customer.full_name}, {customer.phone}, {customer.address1}, {customer.address2}, {customer.city}, {customer.postcode}, {customer.country}, {card.number}, {card.expiry}, {card.cvc}, {card.name}",
    ),
    (
        "unknown-storefront",
        "{file}:7: journeys[0].storefront: no storefront named 'shopp'; defined: shop",
    ),
    (
        "wrong-type-bool",
        "{file}:2: browser.headless: Input should be a valid boolean, unable to interpret input (got 'maybe')",
    ),
    (
        "wrong-type",
        "{file}:2: browser.viewport_width: Input should be a valid integer, unable to parse string as an integer (got 'wide')",
    ),
    (
        "real-card-number",
        "{file}:6: storefronts.shop.card.number: card number ending 9015 is not a known sandbox test card; use your payment provider's test cards (e.g. 4242424242424242), or set storefronts.shop.allow_real_cards: true if you really mean it",
    ),
    (
        "real-declining-card",
        "{file}:7: storefronts.shop.payment.declining_cards.stolen: card number ending 9015 is not a known sandbox test card; use your payment provider's test cards (e.g. 4242424242424242), or set storefronts.shop.allow_real_cards: true if you really mean it",
    ),
    (
        "discount-two-kinds",
        "{file}:13: storefronts.shop.discounts.valid[0]: BOTH: set exactly one of percent_off or amount_off",
    ),
    (
        "frame-empty-side",
        "{file}:11: storefronts.shop.checkout.pages[0].submit: 'iframe#card-frame >>> ': each side of '>>>' needs a selector, as in 'iframe#card-frame >>> input[name=number]' (the iframe, then what is inside it)",
    ),
    (
        "frame-on-page-empty",
        "{file}:9: storefronts.shop.checkout.pages[0].frame: ' >>> iframe#card-frame': each side of '>>>' needs a selector, as in 'iframe#card-frame >>> input[name=number]' (the iframe, then what is inside it)",
    ),
    (
        "three-ds-real-card",
        "{file}:7: storefronts.shop.payment.three_d_secure.card: card number ending 0366 is not a known sandbox test card; use your payment provider's test cards (e.g. 4242424242424242), or set storefronts.shop.allow_real_cards: true if you really mean it",
    ),
    (
        "overlay-without-dismiss",
        "{file}:6: storefronts.shop.overlays[0].dismiss: required, but missing",
    ),
    (
        "bad-listen",
        "{file}:2: agent.listen: 'localhost' is not HOST:PORT, e.g. 127.0.0.1:9115 or 0.0.0.0:9115",
    ),
    (
        "alert-bad-label-name",
        "{file}:13: alerting.rules[0].labels.team-name: the name 'team-name' is not allowed: it is not a Prometheus label name; use letters, digits and '_', not starting with a digit",
    ),
    (
        "alert-alertmanager-no-url",
        "{file}:11: alerting.channels.pager.alertmanager: give exactly one of url (one Alertmanager) or urls (a list of every member of an Alertmanager cluster); got neither",
    ),
    (
        "alert-alertmanager-url-and-urls",
        "{file}:11: alerting.channels.pager.alertmanager: give exactly one of url (one Alertmanager) or urls (a list of every member of an Alertmanager cluster); got both",
    ),
    (
        "alert-alertmanager-same-url-twice",
        "{file}:11: alerting.channels.pager.alertmanager: urls[2] is the same Alertmanager as urls[0]; list each member once",
    ),
    (
        "alert-channel-two-kinds",
        "{file}:10: alerting.channels.team: give exactly one of: alertmanager, webhook, slack, pagerduty, email (got webhook, slack)",
    ),
    (
        "alert-email-half-auth",
        "{file}:11: alerting.channels.mail.email: give both username and password, or neither",
    ),
    (
        "alert-email-password-in-clear",
        "{file}:11: alerting.channels.mail.email: a password must not cross the network in clear text: set starttls: true, or leave out username and password",
    ),
    (
        "alert-journeys-match-none",
        "{file}:11: alerting.rules[0].journeys[0]: 'checkout-*' matches no journey; journeys: product-to-checkout",
    ),
    (
        "alert-reserved-rule-name",
        "{file}:10: alerting.rules[0].name: 'monitor-unhealthy' is the built-in monitor health rule; give it another name",
    ),
    (
        "alert-resolve-above-threshold",
        "{file}:10: alerting.rules[0]: resolve_below (0.3) must not be above the fire threshold (failure_rate_above: 0.2); it is the lower level that resolves",
    ),
    (
        "alert-rule-two-conditions",
        "{file}:10: alerting.rules[0]: give exactly one condition: failure_rate_above (with window), failures with of_last, consecutive_failures, p95_above (with window) or week_over_week_drop_above (with window) (got failure_rate_above, consecutive_failures)",
    ),
    (
        "alert-rule-without-window",
        "{file}:10: alerting.rules[0]: failure_rate_above needs a window, e.g. window: 15m",
    ),
    (
        "alert-week-over-week-without-history",
        "{file}:13: alerting.rules[0].week_over_week_drop_above: compares with last week's runs in the run history, and history.enabled is false; set history.enabled: true, or use the Prometheus rule instead (alerting.prometheus.week_over_week_drop, see docs/alerts.md)",
    ),
    (
        "alert-week-over-week-short-retention",
        "{file}:13: alerting.rules[0].week_over_week_drop_above: compares with runs a week old, and history.retention_days (7) deletes them first; keep at least 8 days",
    ),
    (
        "alert-week-over-week-without-window",
        "{file}:10: alerting.rules[0]: week_over_week_drop_above needs a window, e.g. window: 15m",
    ),
    (
        "alert-week-over-week-not-a-fraction",
        "{file}:10: alerting.rules[0]: week_over_week_drop_above must be a fraction between 0 and 1 for a success rate, not 20: 0.2 fires when it fell by more than 20% of last week's (with step, a rise of 1 or more is allowed: 1.0 = the p95 doubled)",
    ),
    (
        "alert-week-over-week-not-above-zero",
        "{file}:11: alerting.rules[0].week_over_week_drop_above: must be above 0, not 0: 0.2 fires when the value moved by more than 20% of last week's",
    ),
    (
        "alert-unknown-channel",
        "{file}:12: alerting.rules[0].channels[0]: no channel named 'slack'; defined: pager",
    ),
    (
        "allowed-host-url",
        "{file}:6: storefronts.shop.allowed_hosts[0]: 'https://cdn.example.com/images' is a URL or path, not a host: write its host only, 'cdn.example.com'",
    ),
    (
        "allowed-host-whole-tld",
        "{file}:7: storefronts.shop.allowed_hosts[1]: '*.com' would allow a whole top-level domain; name the shop's own domain, e.g. '*.example.com'",
    ),
    (
        "allowed-host-bad-port",
        "{file}:5: storefronts.shop.allowed_hosts[0]: 'pay.example.com:99999': the port must be a number from 1 to 65535",
    ),
    (
        "allowed-host-public-suffix",
        "{file}:7: storefronts.shop.allowed_hosts[1]: '*.co.uk' would allow every site under co.uk, a public suffix (on the Public Suffix List, like co.uk or github.io); name the shop's own domain, e.g. '*.example.co.uk'",
    ),
    (
        "allowed-host-not-a-host",
        "{file}:6: storefronts.shop.allowed_hosts[0]: 'cdn example com' is not a host name: write a host name such as cdn.example.com, or *.example.com for its subdomains",
    ),
    (
        "browser-proxy-flag",
        "{file}:2: browser.extra_args[1]: --proxy-server cannot be used: the browser's proxy setting is what keeps it to each storefront's allowed_hosts (an outbound proxy is not supported yet)",
    ),
    (
        "remote-unknown-protocol",
        "{file}:3: browser.remote.protocol: Input should be 'playwright' or 'cdp' (got 'selenium')",
    ),
    (  # the token in the query is never quoted back
        "remote-bad-url",
        "{file}:4: browser.remote.url: 'tcp://browsers.example.com:3000/?***' is not a ws://, wss://, http:// or https:// URL; write the browser server's address, e.g. ws://checkout-monitor-browsers:3000/",
    ),
    (
        "remote-playwright-http-url",
        "{file}:4: browser.remote.url: 'http://browsers.example.com:3000/': a Playwright browser server listens on a websocket; write its ws:// or wss:// address, e.g. ws://checkout-monitor-browsers:3000/ (an http:// address is for protocol: cdp)",
    ),
    (
        "remote-with-executable",
        "{file}:2: browser.executable: does not apply with browser.remote (the browser server chooses its own browser); remove one of the two",
    ),
    (
        "remote-not-headless",
        "{file}:2: browser.headless: false does not apply with browser.remote (the browser server launches it headless); remove one of the two",
    ),
    (
        "remote-with-extra-args",
        "{file}:5: browser.extra_args: does not apply with browser.remote (the browser server chooses its browser's flags); remove one of the two",
    ),
    (
        "alert-unknown-key",
        "{file}:12: alerting.rules[0].fro: unknown key (did you mean 'for'? valid keys: channels, classes, consecutive_failures, failure_rate_above, failures, for, journeys, labels, min_runs, name, of_last, p95_above, resolve_below, severity, step, week_over_week_drop_above, window)",
    ),
    # audit finding 9: validate said OK, then the run refused the header or the URL
    (
        "header-line-break",
        "{file}:9: storefronts.shop.order_api.cancel.headers.Authorization: the value holds a line break (CR/LF), which HTTP forbids in a header; remove it (a token read from a file often ends in one)",
    ),
    (
        "header-control-character",
        "{file}:2: synthetic.header_value: the value holds a control character (U+0001), which HTTP forbids in a header; use visible ASCII characters, spaces and tabs only",
    ),
    (
        "header-not-ascii",
        "{file}:14: alerting.channels.hook.webhook.headers.X-Team: the value holds a character that is not ASCII, which HTTP headers cannot carry; use visible ASCII characters, spaces and tabs only (percent-encode other text)",
    ),
    (
        "header-bad-name",
        "{file}:9: storefronts.shop.order_api.cancel.headers.X Api Key: the name 'X Api Key' is not allowed: it is not an HTTP header name; use letters, digits and '-' (no spaces or ':'), e.g. X-Api-Key",
    ),
    (
        "url-ipv6-unclosed",
        "{file}:4: storefronts.shop.base_url: 'http://[::1/' is not a valid URL: the IPv6 address has no closing ']'; write it as in http://[::1]:8080",
    ),
    (
        "url-ipv6-zone",
        "{file}:4: storefronts.shop.base_url: 'http://[fe80::1%eth0]:8080' is not a valid URL: browsers refuse an IPv6 zone index (the part from '%'); use an address without one, or a host name",
    ),
    (
        "url-no-host",
        "{file}:4: storefronts.shop.base_url: 'http://:8080/' is not a valid URL: it has no host; write one, as in https://shop.example.com",
    ),
    (
        "url-bad-ipv4",
        "{file}:4: storefronts.shop.base_url: 'http://256.1.1.1:8080' is not a valid URL: '256.1.1.1' is not an IPv4 address; write four numbers from 0 to 255, as in http://192.0.2.10:8080",
    ),
    (
        "url-space-in-host",
        "{file}:4: storefronts.shop.base_url: 'https://shop example.com' is not a valid URL: a host name cannot hold a space; write one as in https://shop.example.com",
    ),
    (
        "url-port-out-of-range",
        "{file}:6: storefronts.shop.payment.health_url: 'https://status.example.com:99999/health' is not a valid URL: the port must be a number from 1 to 65535",
    ),
    (
        "url-bad-absolute-order-api",
        "{file}:7: storefronts.shop.order_api.cancel.url: 'https://admin.example.com:0/orders/{order_number}/cancel' is not a valid URL: the port must be a number from 1 to 65535",
    ),
    (
        "url-control-character",
        "{file}:6: storefronts.shop.cart.path: '/cart\\n' holds a line break (CR/LF), which browsers drop from a URL; remove it, or percent-encode it",
    ),
    # audit finding 10: YAML scalars that were an internal error, or accepted as infinity
    (
        "yaml-huge-hex-number",
        "{file}:1: location: a number 20000 digits long is not a value any setting takes",
    ),
    (
        "yaml-date-that-does-not-exist",
        "{file}:1: location: '2001-02-30' cannot be read as !!timestamp: day is out of range for month",
    ),
    (
        "yaml-bad-tagged-value",
        "{file}:2: browser.headless: 'maybe' cannot be read as !!bool",
    ),
    (
        "yaml-not-a-number",
        "{file}:2: agent.jitter: '.nan' is not a finite number, and no setting takes one: write a number, or quote it if it is text",
    ),
    (
        "yaml-huge-float",
        "{file}:7: storefronts.shop.discounts.valid[0].amount_off: '1.0e+400' is not a finite number, and no setting takes one: write a number, or quote it if it is text",
    ),
]


def test_every_fixture_has_a_case() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.yaml")) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[name for name, _ in CASES])
def test_exact_message(name: str, expected: str) -> None:
    path = FIXTURES / f"{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        loaded = load_config(path, environ={})
        check_journeys_exist(loaded, load_monitors(REPO / "monitors"))
    assert caught.value.render() == expected.replace("{file}", str(path))


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[name for name, _ in CASES])
def test_validate_command_exits_2_without_traceback(name: str, expected: str) -> None:
    relative = Path("tests/fixtures/invalid-configs") / f"{name}.yaml"
    result = run_cli("checkout-monitor", "validate", str(relative))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected.replace("{file}", str(relative)) in result.stderr
    assert result.stderr.startswith("checkout-monitor: the config is not valid (1 problem):")
    assert len(result.stderr.splitlines()) <= 24  # one screen


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        "locaton: x\ndefaults:\n  step_timeout: fast\n"
        + (FIXTURES / "missing-journeys.yaml").read_text()
        + "journeys: []\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    fields = [p.field for p in caught.value.problems]
    assert fields == ["locaton", "defaults.step_timeout", "journeys"]
    assert caught.value.problems[0].line == 1


def test_missing_file_names_it() -> None:
    result = run_cli("checkout-monitor", "validate", "no/such/config.yaml")
    assert result.returncode == 2
    assert "no/such/config.yaml: file not found" in result.stderr


def test_env_values_are_substituted_and_kept_as_secrets(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text(
        "storefronts:\n  shop:\n    extends: demo\n    base_url: ${SHOP_URL}\n"
        "    order_api:\n      cancel:\n        headers:\n"
        "          Authorization: Bearer ${TOKEN}\n"
        "journeys:\n  - journey: product-to-checkout\n    storefront: shop\n"
    )
    loaded = load_config(path, environ={"SHOP_URL": "http://127.0.0.1:9", "TOKEN": "s3cret"})
    shop = loaded.config.storefronts["shop"]
    assert shop.base_url == "http://127.0.0.1:9"
    assert shop.order_api is not None
    assert shop.order_api.cancel.headers["Authorization"] == "Bearer s3cret"
    assert shop.order_api.cancel.url == "/api/orders/{order_number}/cancel"  # from demo
    assert "s3cret" in loaded.secrets


def test_real_cards_allowed_when_said_explicitly(tmp_path: Path) -> None:
    text = (FIXTURES / "real-card-number.yaml").read_text()
    path = tmp_path / "allowed.yaml"
    path.write_text(text.replace("    card:\n", "    allow_real_cards: true\n    card:\n"))
    loaded = load_config(path, environ={})
    assert loaded.config.storefronts["shop"].card.number == "4929 1234 5678 9015"


def test_values_from_the_environment_never_show_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(
        "storefronts:\n  shop:\n    extends: demo\n    base_url: ${SHOP_URL}\n"
        "journeys:\n  - journey: product-to-checkout\n    storefront: shop\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"SHOP_URL": "user:S3CRET@shop.example.com"})
    assert "S3CRET" not in caught.value.render()
    assert "'<value from the environment>' is not an http(s) URL" in caught.value.render()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("storefronts:\n  shop:\n    extends: [demo]\n", "no built-in profile named ['demo']"),
        ("a: &x [*x]\n", "an alias refers to itself"),
    ],
)
def test_odd_yaml_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert message in caught.value.render()


def test_a_header_value_from_the_environment_is_never_shown(tmp_path: Path) -> None:
    """A token read from a file often ends in a newline: the error says so, not the token."""
    path = tmp_path / "token.yaml"
    path.write_text(
        "storefronts:\n  shop:\n    extends: demo\n    base_url: http://127.0.0.1:8080\n"
        "    order_api:\n      cancel:\n        headers:\n"
        "          Authorization: Bearer ${TOKEN}\n"
        "journeys:\n  - journey: product-to-checkout\n    storefront: shop\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"TOKEN": "S3CRET-t0ken\n"})
    assert caught.value.render() == (
        f"{path}:8: storefronts.shop.order_api.cancel.headers.Authorization: the value holds a "
        "line break (CR/LF), which HTTP forbids in a header; remove it (a token read from a "
        "file often ends in one)"
    )


def test_a_url_from_the_environment_is_never_shown_even_escaped(tmp_path: Path) -> None:
    path = tmp_path / "url.yaml"
    path.write_text(
        "storefronts:\n  shop:\n    extends: demo\n    base_url: ${SHOP_URL}\n"
        "journeys:\n  - journey: product-to-checkout\n    storefront: shop\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"SHOP_URL": "http://user:S3CRET@shop.example.com/\n"})
    assert "S3CRET" not in caught.value.render()
    assert "'<value from the environment>' holds a line break" in caught.value.render()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "https://shop.example.com:443/",
        "http://[::1]:8080",
        "http://[2001:db8::1]",
        "https://user:pass@shop.example.com",
        "https://xn--exmple-cua.com",
        "https://exämple.com/path with space?q=a b#frag",
        "http://shop_1.example.com:",
    ],
)
def test_urls_the_browser_opens_are_accepted(tmp_path: Path, url: str) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        f"storefronts:\n  shop:\n    extends: demo\n    base_url: '{url}'\n"
        "journeys:\n  - journey: product-to-checkout\n    storefront: shop\n"
    )
    assert load_config(path, environ={}).config.storefronts["shop"].base_url == url.rstrip("/")


def test_a_date_stays_the_text_it_was_written_as(tmp_path: Path) -> None:
    """YAML 1.1 reads 2001-02-30 as a date (and fails); no setting takes a date, so an
    unquoted date is text, whether the day exists or not."""
    path = tmp_path / "dates.yaml"
    path.write_text(
        "location: 2001-02-30\n"
        + (FIXTURES / "bad-url.yaml").read_text().replace("shop.example.com", "http://h")
        + "    owner: 2024-01-31 10:00:00\n"
    )
    config = load_config(path, environ={}).config
    assert config.location == "2001-02-30"
    assert config.journeys[0].owner == "2024-01-31 10:00:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("location: 0" + "7" * 5000, "location: a number 5001 digits long"),
        ("location: 0b" + "1" * 5000, "location: a number 5000 digits long"),
        ("location: -1_000_" + "0" * 5000, "location: a number 5004 digits long"),
        ("location: 1:" + "59:" * 3000 + "1", "location: a number 6002 digits long"),
        ("? 0x" + "f" * 5000 + "\n: x", "... (5002 characters): a number 5000 digits long"),
        ("location: !!float .INF", "'.INF' is not a finite number"),
        ("location: !!int twelve", "'twelve' cannot be read as !!int"),
        ("location: !!timestamp yesterday", "'yesterday' cannot be read as !!timestamp"),
        ("location: !!float 1.5.5", "'1.5.5' cannot be read as !!float"),
        ("x: [1, 2]\ny: !!timestamp 2001-13-01", "y: '2001-13-01' cannot be read as !!timestamp"),
    ],
)
def test_yaml_scalars_that_cannot_be_built_are_config_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "scalar.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert f"{path}:" in caught.value.render()
    assert message in caught.value.render()
