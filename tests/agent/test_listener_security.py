"""The agent's own listener: loopback by default; TLS and basic auth from a web config file in
the format of Prometheus's exporter toolkit, scraped by a real Prometheus; every bad web config
a one-screen error with exit 2.

Certificates are made for each test run by the real `openssl` into a temporary folder.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import shutil
import signal
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.basic_auth import BasicAuth
from checkout_monitor.agent.evidence_files import PREFIX, evidence_page
from checkout_monitor.agent.serve import evidence_warning
from checkout_monitor.agent.status_server import Answer, Readiness, StatusServer, is_loopback
from checkout_monitor.config.model import AgentConfig
from checkout_monitor.config.web_config import load_web_config
from checkout_monitor.errors import ConfigError
from support.agent_process import AgentProcess
from support.cli_support import REPO, run_cli
from support.listener_pki import (
    HASH,
    PASSWORD,
    USER,
    Pki,
    basic_header,
    openssl,
    tls_and_auth,
    trusting_ca,
    web_config_file,
)
from support.prometheus_servers import query, start_prometheus, wait_until

FIXTURES = REPO / "tests" / "fixtures" / "invalid-web-configs"
# --- a real Prometheus scrapes `serve` over https with basic auth --------------------------


@pytest.mark.browser
def test_prometheus_scrapes_over_https_with_basic_auth(pki: Pki, tmp_path: Path) -> None:
    web = web_config_file(tmp_path, tls_and_auth(pki))
    args = ["--demo", "--interval", "2s", "--web-config", str(web)]
    with AgentProcess(args, tmp_path, ca=pki["ca.crt"], auth=(USER, PASSWORD)) as agent:
        assert agent.url.startswith("https://")
        assert f"on {agent.url} with TLS and basic auth (1 user) ({web})" in agent.output()
        assert "# TYPE checkout_journey_success gauge" in agent.metrics()
        assert isinstance(agent.alerts(), list)

        anonymous = httpx.Client(verify=trusting_ca(pki), timeout=10)
        for path in ("/metrics", "/alerts", "/nowhere"):
            refused = anonymous.get(agent.url + path)
            assert refused.status_code == 401, path
            assert refused.headers["WWW-Authenticate"].startswith('Basic realm="checkout-monitor"')
            assert "checkout_" not in refused.text
        for wrong in [(USER, PASSWORD + "x"), ("nobody", PASSWORD), (USER, "")]:
            refused = anonymous.get(f"{agent.url}/metrics", auth=wrong)
            assert refused.status_code == 401, wrong
        # the probes stay open (see docs/security.md): a fixed word, no metric, no secret
        assert anonymous.get(f"{agent.url}/healthz").text == "ok\n"
        assert anonymous.get(f"{agent.url}/readyz").status_code == 200

        # plain http to the TLS port: no metrics, a plain answer saying what is wrong
        plain = httpx.get(f"http://127.0.0.1:{agent.port}/metrics", auth=(USER, PASSWORD))
        assert plain.status_code == 400
        assert "Client sent an HTTP request to an HTTPS server" in plain.text
        assert "checkout_" not in plain.text
        # and a client that does not trust the certificate gets nothing
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{agent.url}/healthz")

        job = {
            "scheme": "https",
            "tls_config": {"ca_file": str(pki["ca.crt"])},
            "basic_auth": {"username": USER, "password": PASSWORD},
        }
        prometheus = start_prometheus(tmp_path, f"127.0.0.1:{agent.port}", scrape=job)
        try:
            up = 'up{job="checkout-monitor"}'
            wait_until(lambda: _value(prometheus, up) == 1, 30, "Prometheus to scrape over https")
            samples = _value(prometheus, 'scrape_samples_scraped{job="checkout-monitor"}')
            assert samples and samples > 10  # the agent's own series, not an error page

            # SIGHUP re-reads the web config: the old password stops working, and the real
            # scraper, still sending it, is turned away with 401
            new_hash = bcrypt.hashpw(b"rotated-Pa55", bcrypt.gensalt(4)).decode()
            web_config_file(tmp_path, tls_and_auth(pki, new_hash))
            agent.process.send_signal(signal.SIGHUP)
            wait_until(
                lambda: (
                    anonymous.get(f"{agent.url}/metrics", auth=(USER, PASSWORD)).status_code == 401
                ),
                20,
                "the reloaded web config",
            )
            assert anonymous.get(f"{agent.url}/metrics", auth=(USER, "rotated-Pa55")).is_success
            wait_until(lambda: "401" in _last_error(prometheus), 20, "a refused scrape")
            assert _value(prometheus, up) == 0
        finally:
            prometheus.stop()

        # a broken web config on SIGHUP is reported; the last good one stays in force
        web_config_file(tmp_path, "basic_auth_users:\n  prometheus: rotated-Pa55\n")
        agent.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "config reload failed" in agent.output(), 20, "the failed reload")
        assert "basic_auth_users.prometheus: this is not a bcrypt hash" in agent.output()
        assert anonymous.get(f"{agent.url}/metrics", auth=(USER, "rotated-Pa55")).is_success
        code, _ = agent.stop()
        assert code == 0
    assert PASSWORD not in agent.output() and HASH not in agent.output()


def _value(prometheus: object, promql: str) -> float | None:
    result = query(prometheus, promql)  # type: ignore[arg-type]
    return float(result[0]["value"][1]) if result else None


def _last_error(prometheus: object) -> str:
    targets = httpx.get(f"{prometheus.url}/api/v1/targets", timeout=5).json()  # type: ignore[attr-defined]
    return " ".join(t["lastError"] for t in targets["data"]["activeTargets"])


@pytest.mark.browser
def test_basic_auth_without_tls_works_and_warns(tmp_path: Path) -> None:
    web = web_config_file(tmp_path, f"basic_auth_users:\n  {USER}: '{HASH}'\n")
    with AgentProcess(
        ["--demo", "--web-config", str(web)], tmp_path, auth=(USER, PASSWORD)
    ) as agent:
        assert "# TYPE checkout_journey_success gauge" in agent.metrics()
        assert httpx.get(f"{agent.url}/metrics").status_code == 401
        assert httpx.get(f"{agent.url}/metrics", auth=(USER, "nope")).status_code == 401
        output = agent.output()
    assert f"on {agent.url} with basic auth (1 user) ({web})" in output
    assert "warning: basic auth without TLS: the password crosses the network in clear" in output


# --- the listener in process: client certificates, the credential cache, odd headers -------


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[list[StatusServer]]:
    started: list[StatusServer] = []
    yield started
    for server in started:
        server.stop()


def _start(started: list[StatusServer], web: Path) -> str:
    ready = Readiness()
    server = StatusServer("127.0.0.1", 0, CollectorRegistry(), ready, web=load_web_config(web))
    started.append(server.start())
    return f"{server.scheme}://{server.address}"


def test_client_certificates_signed_by_the_ca_only(
    pki: Pki, tmp_path: Path, listener: list[StatusServer]
) -> None:
    web = web_config_file(
        tmp_path,
        f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['server.key']}\n"
        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki['ca.crt']}\n"
        "  min_version: TLS13\n",
    )
    url = _start(listener, web)
    assert httpx.get(f"{url}/metrics", verify=trusting_ca(pki, "client")).status_code == 200
    for client in (None, "rogue"):
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(f"{url}/healthz", verify=trusting_ca(pki, client))
    old = trusting_ca(pki, "client")
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", verify=old)


def test_a_verified_password_is_remembered_and_each_new_guess_costs_bcrypt() -> None:
    auth = BasicAuth({USER: HASH.encode()})
    right = basic_header(USER, PASSWORD)
    started = time.perf_counter()
    assert auth.allows(right)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(50):
        assert auth.allows(right)
    cached = (time.perf_counter() - started) / 50
    assert auth.bcrypt_checks == 1  # 51 scrapes, one bcrypt
    for guess in ("guess-1", "guess-2", "guess-3"):
        assert not auth.allows(basic_header(USER, guess))
    assert not auth.allows(basic_header("nobody", PASSWORD))
    assert auth.bcrypt_checks == 5  # new guesses and unknown users pay every time
    for _ in range(3):  # a guess sent again is refused from memory: it cannot become right
        assert not auth.allows(basic_header(USER, "guess-1"))
        assert not auth.allows(basic_header("nobody", PASSWORD))
    assert auth.allows(right) and auth.bcrypt_checks == 5

    # a reload keeps what was verified while the user's hash is the same, never after it changed
    reloaded = BasicAuth({USER: HASH.encode()}, previous=auth)
    assert reloaded.allows(right) and reloaded.bcrypt_checks == 0
    assert not reloaded.allows(basic_header(USER, "guess-1")) and reloaded.bcrypt_checks == 1
    rotated_hash = bcrypt.hashpw(b"rotated", bcrypt.gensalt(4))
    rotated = BasicAuth({USER: rotated_hash}, previous=reloaded)
    assert not rotated.allows(right) and rotated.bcrypt_checks == 1
    assert rotated.allows(basic_header(USER, "rotated")) and rotated.bcrypt_checks == 2
    print(
        f"\nbasic auth at bcrypt cost 10: first check {first * 1000:.1f} ms, "
        f"remembered {cached * 1e6:.1f} us ({first / cached:.0f}x)"
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"Bearer {PASSWORD}",
        "Basic not*base64",
        "Basic " + base64.b64encode(PASSWORD.encode()).decode(),  # no user:password colon
        "Basic " + base64.b64encode(b"\xff\xfe:" + PASSWORD.encode()).decode(),
        basic_header(USER, PASSWORD + "x" * 80),  # over bcrypt's 72 bytes: never "the same"
    ],
    ids=["none", "empty", "bearer", "bad-base64", "no-colon", "not-utf8", "too-long"],
)
def test_anything_but_good_credentials_is_refused(header: str | None) -> None:
    assert not BasicAuth({USER: HASH.encode()}).allows(header)


def test_the_default_listen_address_is_loopback_only(listener: list[StatusServer]) -> None:
    host, _, port = AgentConfig().listen.rpartition(":")
    assert ipaddress.ip_address(host).is_loopback and port == "9115"
    server = StatusServer(host, 0, CollectorRegistry(), Readiness())
    listener.append(server.start())
    bound = server.address.rpartition(":")[0]
    assert ipaddress.ip_address(bound).is_loopback, bound
    listed = run_cli("checkout-monitor", "serve", "--help").stdout
    assert "default: agent.listen in the config" in listed


# --- every bad web config: one screen naming file, field and what is valid; exit 2 ----------

VALID_KEYS = "cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version"
CASES = [
    (
        "unknown-key",
        "{file}:1: tls_server_confg: unknown key (did you mean 'tls_server_config'? valid keys: basic_auth_users, tls_server_config)",
    ),
    (
        "unsupported-key",
        f"{{file}}:4: tls_server_config.cipher_suites: not supported: Python's ssl module chooses the cipher suites (no weak ones); supported keys here: {VALID_KEYS}",
    ),
    (
        "unsupported-section",
        "{file}:3: rate_limit: not supported by checkout-monitor: put a reverse proxy in front for that; supported keys here: basic_auth_users, tls_server_config",
    ),
    (
        "password-not-hash",
        "{file}:3: basic_auth_users.prometheus: this is not a bcrypt hash; write the bcrypt hash of the password, never the password itself: htpasswd -nBC 10 \"\" | tr -d ':\\n' prints one, or python3 -c 'import bcrypt, getpass; print(bcrypt.hashpw(getpass.getpass().encode(), bcrypt.gensalt()).decode())'",
    ),
    (
        "missing-cert-file",
        "{file}:2: tls_server_config.cert_file: file not found: {dir}/no-such.crt",
    ),
    ("missing-key-file-field", "{file}:1: tls_server_config.key_file: required, but missing"),
    (
        "inline-cert",
        f"{{file}}:2: tls_server_config.cert: inline PEM is not supported: put it in a file and name the file in cert_file; supported keys here: {VALID_KEYS}",
    ),
    (
        "unchecked-client-certs",
        "{file}:4: tls_server_config.client_auth_type: RequireAnyClientCert is not supported: it lets in clients whose certificate is not checked; use RequireAndVerifyClientCert with client_ca_file, or NoClientCert",
    ),
    (
        "unknown-client-auth",
        "{file}:4: tls_server_config.client_auth_type: 'Always' is not one of: NoClientCert, RequireAndVerifyClientCert",
    ),
    (
        "client-auth-without-ca",
        "{file}:1: tls_server_config.client_ca_file: required with RequireAndVerifyClientCert: the CA that signs clients",
    ),
    (
        "ca-without-client-auth",
        "{file}:4: tls_server_config.client_ca_file: only used with client_auth_type: RequireAndVerifyClientCert",
    ),
    (
        "old-tls-version",
        "{file}:4: tls_server_config.min_version: TLS11 is not supported: TLS 1.0 and 1.1 are not safe; use TLS12 or TLS13",
    ),
    ("min-above-max", "{file}:4: tls_server_config.min_version: is above max_version"),
    (
        "sets-nothing",
        "{file}: sets nothing: give tls_server_config, basic_auth_users or both",
    ),
    ("empty", "{file}: the file is empty"),
    (
        "not-a-mapping",
        "{file}: expected a mapping with tls_server_config and/or basic_auth_users",
    ),
    (
        "user-with-colon",
        "{file}:2: basic_auth_users.prom:etheus: a user name is text, not empty, without ':'",
    ),
]


@pytest.fixture
def beside_certificates(pki: Pki, tmp_path: Path) -> Path:
    """A folder holding the server's certificate, key and CA, as the fixtures name them."""
    for name in ("server.crt", "server.key", "ca.crt"):
        shutil.copy(pki[name], tmp_path / name)
    return tmp_path


def test_every_fixture_has_a_case() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.yml")) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[name for name, _ in CASES])
def test_exact_message(name: str, expected: str, beside_certificates: Path) -> None:
    path = beside_certificates / f"{name}.yml"
    shutil.copy(FIXTURES / path.name, path)
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    assert caught.value.render() == expected.format(file=path, dir=beside_certificates)


def _agent_config(folder: Path, web_config: str) -> Path:
    """A valid agent config whose listener uses ``web_config`` (relative to it)."""
    text = (REPO / "tests" / "fixtures" / "invalid-configs" / "bad-listen.yaml").read_text()
    config = folder / "config.yaml"
    config.write_text(text.replace("listen: localhost", f"web_config_file: {web_config}"))
    return config


# Every message is checked in-process above; through the CLI (a second or more each), one
# of each sort: a secret typed where the hash belongs, a file error, a TLS value, a shape.
CLI_CASES = [case for case in CASES if case[0] in {
    "password-not-hash", "missing-cert-file", "old-tls-version", "not-a-mapping"
}]  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), CLI_CASES, ids=[name for name, _ in CLI_CASES])
def test_validate_and_serve_exit_2_without_traceback(
    name: str, expected: str, beside_certificates: Path
) -> None:
    shutil.copy(FIXTURES / f"{name}.yml", beside_certificates / "web.yml")
    config = _agent_config(beside_certificates, "web.yml")
    message = expected.format(file=beside_certificates / "web.yml", dir=beside_certificates)
    result = run_cli("checkout-monitor", "validate", str(config), timeout=60)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.splitlines()) <= 24  # one screen
    assert "hunter2" not in result.stderr  # a password typed where the hash belongs


def test_serve_refuses_a_bad_web_config_before_it_listens(beside_certificates: Path) -> None:
    shutil.copy(FIXTURES / "old-tls-version.yml", beside_certificates / "web.yml")
    result = run_cli(
        "checkout-monitor", "serve", "--demo", "--listen", "127.0.0.1:1",
        "--web-config", str(beside_certificates / "web.yml"), timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "tls_server_config.min_version: TLS11 is not supported" in result.stderr
    assert "Traceback" not in result.stderr and "serving" not in result.stdout


def test_a_missing_web_config_file_is_named_where_it_was_given(tmp_path: Path) -> None:
    config = _agent_config(tmp_path, "secrets/web.yml")
    result = run_cli("checkout-monitor", "validate", str(config), timeout=60)
    assert result.returncode == 2
    assert (
        f"{config}:2: agent.web_config_file: file not found: {tmp_path / 'secrets/web.yml'}"
        in result.stderr
    )
    result = run_cli(
        "checkout-monitor", "serve", "--demo", "--web-config", "no/such/web.yml", timeout=60
    )
    assert result.returncode == 2
    assert result.stderr == "checkout-monitor: --web-config: file not found: no/such/web.yml\n"


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_web_config_that_is_no_file_is_never_read(kind: str, tmp_path: Path) -> None:
    """/dev/zero or a named pipe given as the web config: refused at once, never read."""
    path = Path("/dev/zero")
    if kind == "fifo":
        path = tmp_path / "web.yml"
        os.mkfifo(path)
    result = run_cli("checkout-monitor", "serve", "--demo", "--web-config", str(path), timeout=30)
    assert result.returncode == 2
    assert result.stderr == (
        f"checkout-monitor: --web-config: not a regular file (a device or a pipe?): give the "
        f"path of a web config file: {path}\n"
    )


def test_a_valid_web_config_is_reported_by_validate(pki: Pki, tmp_path: Path) -> None:
    web_config_file(tmp_path, tls_and_auth(pki))
    result = run_cli("checkout-monitor", "validate", str(_agent_config(tmp_path, "web.yml")))
    assert result.returncode == 0, result.stderr
    assert f"listener: TLS and basic auth (1 user) ({tmp_path / 'web.yml'})" in result.stdout


@pytest.mark.parametrize(
    ("key_and_cert", "expected"),
    [
        (
            ("rogue.key", "server.crt"),
            "tls_server_config.cert_file: the certificate and key do not load together "
            "(KEY_VALUES_MISMATCH): both PEM, the key the certificate's own",
        ),
        (
            ("encrypted.key", "server.crt"),
            "tls_server_config.key_file: the key is encrypted with a passphrase; "
            "give an unencrypted key file",
        ),
        (
            ("server.key", "server.key"),
            "tls_server_config.cert_file: the certificate and key do not load together",
        ),
    ],
    ids=["key-of-another-certificate", "encrypted-key", "key-as-certificate"],
)
def test_certificates_that_do_not_load(
    pki: Pki, tmp_path: Path, key_and_cert: tuple[str, str], expected: str
) -> None:
    openssl(
        tmp_path, "pkey", "-in", str(pki["server.key"]), "-out", "encrypted.key",
        "-aes256", "-passout", "pass:secret-passphrase",
    )  # fmt: skip
    key, cert = key_and_cert
    key_path = tmp_path / key if key == "encrypted.key" else pki[key]
    web = web_config_file(
        tmp_path, f"tls_server_config:\n  cert_file: {pki[cert]}\n  key_file: {key_path}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_web_config(web)
    assert expected in caught.value.render()
    assert "secret-passphrase" not in caught.value.render()


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("folder", "a folder, not a file"),
        ("x" * 5000, "cannot use this path (File name too long)"),
    ],
)
def test_a_web_config_path_that_is_no_file_is_a_plain_error(
    tmp_path: Path, given: str, problem: str
) -> None:
    (tmp_path / "folder").mkdir()
    config = _agent_config(tmp_path, given)
    result = run_cli("checkout-monitor", "validate", str(config), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{config}:2: agent.web_config_file: {problem}: {tmp_path / given}" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


# --- evidence off loopback only behind a password; a bug answers 500 -----------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("monitor.example.com", False),
    ],
)
def test_which_listen_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_evidence_is_refused_without_a_password_where_serve_says_so(
    tmp_path: Path, listener: list[StatusServer]
) -> None:
    """``serve`` names /evidence/ password-only off loopback (the container's 0.0.0.0);
    without basic auth it answers 403 saying why and how, with it the file."""
    evidence = tmp_path / "2026-11-02T09-08-00Z-0a1b2c" / "shop" / "attempt-1"
    evidence.mkdir(parents=True)
    (evidence / "console.txt").write_text("TypeError: x is undefined\n")
    path = "/evidence/2026-11-02T09-08-00Z-0a1b2c/shop/attempt-1/console.txt"
    pages = {"/": _page_ok, PREFIX: evidence_page(lambda: tmp_path)}
    web = load_web_config(web_config_file(tmp_path, f"basic_auth_users:\n  {USER}: '{HASH}'\n"))
    for config in (None, web):
        server = StatusServer(
            "127.0.0.1",
            0,
            CollectorRegistry(),
            Readiness(),
            web=config,
            web_pages=pages,
            password_only=(PREFIX,),
        )
        listener.append(server.start())
    open_one, locked = (f"http://{server.address}" for server in listener)
    refused = httpx.get(open_one + path, timeout=10)
    assert refused.status_code == 403
    assert "served only behind a password" in refused.text
    assert "docs/serve.md, 'TLS and a password for the listener'" in refused.text
    assert httpx.get(open_one + "/", timeout=10).status_code == 200  # the page stays open
    served = httpx.get(locked + path, auth=(USER, PASSWORD), timeout=10)
    assert served.status_code == 200 and served.text == "TypeError: x is undefined\n"
    assert "listening on 0.0.0.0 without basic auth: /evidence/ answers 403" in evidence_warning(
        "0.0.0.0"
    )


def _page_ok(path: str, query: object) -> Answer:
    return Answer(200, b"status\n", "text/plain")


def test_a_bug_in_a_page_answers_500_and_is_logged_once(
    listener: list[StatusServer], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(path: str, query: object) -> Answer:
        raise KeyError("a bug")

    server = StatusServer("127.0.0.1", 0, CollectorRegistry(), Readiness(), web_pages={"/": broken})
    listener.append(server.start())
    with caplog.at_level("DEBUG", logger="checkout_monitor.status_server"):
        answers = [httpx.get(f"http://{server.address}/", timeout=10) for _ in range(3)]
    for answer in answers:
        assert answer.status_code == 500
        assert answer.text.startswith("500 Internal Server Error: the agent could not build")
        assert "KeyError" not in answer.text  # the log says what, never the client
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "builtins.KeyError" in errors[0].getMessage()
    assert errors[0].exc_info is not None
