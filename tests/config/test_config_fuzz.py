"""Property-based fuzzing of the config loader: any file gives a config or a plain error.

Whatever bytes a config file holds, ``load_config`` returns a ``LoadedConfig`` or raises a
``ConfigError`` whose every line names the file; it never raises anything else, never
hangs on aliases that expand, and never prints a screenful. A few of the same inputs go
through the real ``checkout-monitor validate`` in a subprocess: exit 0 or 2, no traceback.

CI runs a fixed, derandomized set of examples (seconds). To fuzz for longer, with fresh
random inputs each run:

    CHECKOUT_MONITOR_FUZZ_EXAMPLES=20000 .venv/bin/pytest -n 0 tests/config/test_config_fuzz.py
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import Config, LoadedConfig
from checkout_monitor.errors import ConfigError
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import check_journeys_exist
from support.cli_support import REPO, run_cli, write_shop_config

ALL_PHASES = list(Phase)
LONG_RUN = int(os.environ.get("CHECKOUT_MONITOR_FUZZ_EXAMPLES", "0"))
# Set in the environment the loader sees, so ${SET_TOKEN} resolves and ${UNSET_VAR} does not.
ENVIRON = {"SET_TOKEN": "s3cr3t-token-value", "EMPTY_VAR": "", "SHOP_ORDER_API_TOKEN": "t0ken-x"}
ENVIRON.update(
    {"SLACK_WEBHOOK_URL": "https://hooks.example.com/x", "PAGERDUTY_ROUTING_KEY": "k" * 12}
)
ENVIRON.update({"ALERT_WEBHOOK_TOKEN": "hook-token-1", "SMTP_PASSWORD": "smtp-pass-1"})
MAX_ERROR_LINES = 16  # 15 problems and "... and N more problems": one screen
MAX_LINE_CHARS = 2000  # a problem line quotes a little of the input, never all of it


def fuzz_settings(examples: int) -> settings:
    """Fixed and quick in CI; ``CHECKOUT_MONITOR_FUZZ_EXAMPLES`` asks for a longer random run."""
    return settings(
        max_examples=LONG_RUN or examples,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,
        print_blob=True,
        # shrinking a failure can take minutes: CI reports the example as found
        phases=ALL_PHASES if LONG_RUN else [p for p in ALL_PHASES if p is not Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="checkout-monitor-fuzz-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def journeys() -> dict[str, Any]:
    return load_monitors(REPO / "monitors")


# --- the property ---------------------------------------------------------------------------


def check_loads_or_says_why(path: Path, journeys: dict[str, Any]) -> LoadedConfig | None:
    """The property, as ``validate`` runs it: a config, or a ConfigError naming the file."""
    try:
        loaded = load_config(path, environ=ENVIRON)
        check_journeys_exist(loaded, journeys)
    except ConfigError as exc:
        text = str(exc)
        lines = text.splitlines()
        assert exc.problems, "a ConfigError with no problem in it"
        assert 1 <= len(lines) <= MAX_ERROR_LINES, text[:3000]
        assert all(line.startswith(str(path)) for line in lines if not line.startswith("...")), (
            text[:3000]
        )
        assert all(len(line) <= MAX_LINE_CHARS for line in lines), text[:3000]
        assert "Traceback" not in text
        return None
    assert isinstance(loaded, LoadedConfig)
    assert isinstance(loaded.config, Config)
    # the folders the commands go on to use resolve without an error of their own
    loaded.monitors_dir()
    loaded.artifacts_dir()
    loaded.state_dir()
    assert_the_run_accepts(loaded.config.model_dump(by_alias=True))
    return loaded


# what Chromium, Playwright's request API and httpx accept in a header (RFC 9110 token)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
URL_KEYS = {"base_url", "health_url", "url", "webhook_url", "external_url", "path", "listing"}


def assert_the_run_accepts(value: Any, key: str = "") -> None:
    """What validate accepts, the run sends: every header, and every URL the browser or
    httpx opens (audit finding 9: validate said OK, then the run refused them)."""
    if isinstance(value, dict):
        if key == "headers":
            for name, text in value.items():
                assert HEADER_NAME.fullmatch(name), name
                assert HEADER_VALUE.fullmatch(text), "a header value the run would refuse"
        for child_key, child in value.items():
            assert_the_run_accepts(child, str(child_key))
    elif isinstance(value, list):
        for item in value:
            assert_the_run_accepts(item, key)
    elif key in ("header_value", "user_agent_suffix"):
        assert HEADER_VALUE.fullmatch(value), "a header value the run would refuse"
    elif key in URL_KEYS | {"pages"} and isinstance(value, str):
        if value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            assert parts.hostname, value
            assert parts.port != 0, value  # .port raises ValueError when out of range
            httpx.URL(value)
        assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value), repr(value)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    else:
        path.write_bytes(content)
    return path


# --- strategies -------------------------------------------------------------------------------


def _known_keys(model: Any, seen: set[str]) -> None:
    """Every key the config model knows, so generated documents reach deep into it."""
    for name, field in getattr(model, "model_fields", {}).items():
        seen.add(field.alias or name)
        for inner in _types_in(field.annotation):
            _known_keys(inner, seen)


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _types_in(arg)


KNOWN: set[str] = set()
_known_keys(Config, KNOWN)
KNOWN |= {"extends", "demo", "shop", "product-to-checkout", "checkout-failing"}
KEYS = st.sampled_from(sorted(KNOWN)) | st.text(max_size=20)

ODD_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "${SET_TOKEN}",
        "${UNSET_VAR}",
        "${EMPTY_VAR}",
        "${",
        "${}",
        "$${SET_TOKEN}",
        "http://127.0.0.1:1/${SET_TOKEN}",
        "demo",
        "demo-boutique",
        "10s",
        "0s",
        "1h30m",
        "9" * 400 + "h",
        "1" * 5000 + "ms",
        "0.000000000001ms",
        "-5s",
        "nan",
        "inf",
        "4242424242424242",
        "4000000000009995",
        "5555 5555 5555 4444",
        "[",
        "(?P<",
        "x" * 10_000,
        "é€😀\u202e\u200b",
        "\x00",
        "a\x00b",
        "\ud800",
        "127.0.0.1:9115",
        "0.0.0.0:99999",
        "{card.number}",
        "{customer.nope}",
        "product-to-checkout",
        "*",
        "\\",
        "..",
        "/",
        # headers and URLs the run refused after validate said OK (audit finding 9)
        "Bearer t0ken\r\n",
        "a\nb",
        "tab\there",
        "caf\u00e9",
        "X Api Key",
        "http://[::1/",
        "http://[fe80::1%eth0]:8080",
        "http://:8080/",
        "https://shop.example.com:99999",
        "https://shop example.com",
        "http://256.1.1.1",
        "/cart\n",
        # scalars that looked like dates or numbers (audit finding 10)
        "2001-02-30",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | ODD_STRINGS
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def _good_documents() -> list[dict[str, Any]]:
    shop = SimpleNamespace(
        shop_url="http://127.0.0.1:8081",
        sandbox_url="http://127.0.0.1:8082",
        sandbox_public_url="http://pay.localhost:8082",
        admin_token="admin-token-for-fuzzing",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_shop_config(Path(folder) / "c.yaml", shop)  # type: ignore[arg-type]
        shop_doc = yaml.safe_load(path.read_text())
    example_doc = yaml.safe_load((REPO / "config.example.yaml").read_text())
    example_doc["monitors_dir"] = str(REPO / "monitors")
    return [shop_doc, example_doc]


GOOD = _good_documents()


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*at, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """A known-good config with a few things changed: keys dropped, renamed or added,
    values of the wrong type, odd strings, huge numbers, ${ENV} references, extends."""
    doc = copy.deepcopy(draw(st.sampled_from(GOOD)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _get(doc, path[:-1]), path[-1]
        operation = draw(
            st.sampled_from(["drop", "replace", "rename", "add", "wrap", "nest", "extends"])
        )
        if operation == "drop":
            del parent[last]
        elif operation == "replace":
            parent[last] = draw(DOCUMENTS)
        elif operation == "rename" and isinstance(parent, dict):
            value = parent.pop(last)
            parent[draw(KEYS | st.just(str(last)[:-1]) | st.just(f"{last}s"))] = value
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(DOCUMENTS)
        elif operation == "wrap":
            parent[last] = draw(st.sampled_from([[parent[last]], {"value": parent[last]}]))
        elif operation == "nest":
            parent[last] = _nest(parent[last], draw(st.integers(10, 60)))
        elif operation == "extends" and isinstance(parent, dict):
            parent["extends"] = draw(st.sampled_from(["demo", "demo-boutique", "nope"]) | SCALARS)
    return doc


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1_000_000)


# "billion laughs": nine levels of ten aliases each, a few lines that expand to 10**9 values
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str | bytes:
    """YAML text edits no dict can express: anchors and aliases, merge keys, tags, deep
    flow nesting, bytes that are not UTF-8, NUL bytes, a BOM, tabs, cut-off files."""
    text = _dump(draw(mutated_documents()))
    lines = text.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines)))
    edit = draw(
        st.sampled_from(
            [
                "alias",
                "self-alias",
                "merge",
                "bomb",
                "deep-flow",
                "deep-block",
                "bytes",
                "nul",
                "bom",
                "tab",
                "cut",
                "tag",
                "huge-int",
                "insert-line",
            ]
        )
    )
    if edit == "alias":
        return "x-common: &common\n  owner: a\n" + text.replace("owner: Test team", "<<: *common")
    if edit == "self-alias":
        return text + "x-loop: &loop\n  - *loop\n"
    if edit == "merge":
        return text + "defaults2: &d {step_timeout: 5s}\nother:\n  <<: [*d, *d]\n"
    if edit == "bomb":
        return ALIAS_BOMB + text
    if edit == "deep-flow":
        depth = draw(st.integers(41, 1200))
        return text + "deep: " + "[" * depth + "]" * depth + "\n"
    if edit == "deep-block":
        depth = draw(st.integers(50, 400))
        return text + "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    if edit == "bytes":
        raw = text.encode()
        cut = draw(st.integers(0, len(raw)))
        return raw[:cut] + draw(st.binary(min_size=1, max_size=8)) + raw[cut:]
    if edit == "nul":
        cut = draw(st.integers(0, len(text)))
        return text[:cut] + "\x00" + text[cut:]
    if edit == "bom":
        return "\ufeff" + text
    if edit == "tab":
        return "".join(lines[:at]) + "\t" + "".join(lines[at:])
    if edit == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if edit == "tag":
        tag = draw(
            st.sampled_from(
                ["!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!python/object:os.system",
                 "!custom x", "!!timestamp 2001-12-14", "!!float .inf", "!!int 0x1F",
                 "!!timestamp 2001-02-30", "!!bool maybe", "!!int twelve", ".nan", "1.0e+400",
                 "2001-02-30", "0x" + "f" * 5000, "0" + "7" * 5000]
            )
        )  # fmt: skip
        # in place of the file's own location: a second one would be refused before it is read
        located = re.sub(r"(?m)^location: .*$", lambda _: f"location: {tag}", text)
        return located + f"tagged: {tag}\n"
    if edit == "huge-int":
        return text.replace("retries: 0", "retries: " + "9" * 5000)
    return "".join(lines[:at]) + draw(st.text(max_size=40)) + "\n" + "".join(lines[at:])


# --- what fuzzing found, each with its exact message ---------------------------------------

FOUND = [
    ("a: " + "9" * 5000, "{file}:1: a: a number 5000 digits long is not a value any setting takes"),
    ("[" * 3000 + "]" * 3000, "{file}: not valid config: lists or mappings nested more than 40 levels deep"),
    ("k:\n" + "".join(f"{'  ' * i}- x\n" for i in range(1, 3)) + "z: " + "[" * 45 + "]" * 45, "{file}:4: not valid config: lists or mappings nested more than 40 levels deep"),
    (ALIAS_BOMB, "{file}:1: not valid config: the file expands to more than 100000 values (aliases that repeat aliases?)"),
    ("- &a [*a]", "{file}:1: not valid config: an alias refers to itself"),
    ('monitors_dir: "a\\0b"', "{file}:1: monitors_dir: contains a NUL character (\\0), which no setting can hold"),
    ("location: a\x00b", "{file}:1: not valid YAML: a NUL byte is not allowed in a YAML file"),
    (b"location: caf\xe9\n", "{file}:1: not UTF-8 text: byte 0xe9 at position 13 cannot be read; save the file as UTF-8"),
    ("defaults: {step_timeout: " + "9" * 400 + "h}", "{file}:1: defaults.step_timeout: '" + "9" * 400 + "h' is not a duration: the number is too large"),
    ('"\\r": x\n', "{file}:1: '\\r': unknown key (valid keys: agent, alerting, artifacts, browser, defaults, history, journeys, location, monitors_dir, storefronts, synthetic)"),
    ("'[key]': x", "{file}:1: [key]: unknown key (valid keys: agent, alerting, artifacts, browser, defaults, history, journeys, location, monitors_dir, storefronts, synthetic)"),
    ("k" * 500 + ": x", "{file}:1: " + "k" * 65 + "... (500 characters): unknown key (valid keys: agent, alerting, artifacts, browser, defaults, history, journeys, location, monitors_dir, storefronts, synthetic)"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "expected"), FOUND, ids=range(len(FOUND)))
def test_what_fuzzing_found_says_what_is_wrong(
    scratch: Path, content: str | bytes, expected: str
) -> None:
    path = write(scratch / "found.yaml", content)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert expected.format(file=path) in caught.value.render().splitlines()


# --- in-process -------------------------------------------------------------------------------


def test_the_good_documents_load(scratch: Path, journeys: dict[str, Any]) -> None:
    """The mutations start from configs that load, so what breaks is the mutation's doing."""
    for i, doc in enumerate(GOOD):
        assert check_loads_or_says_why(write(scratch / f"good-{i}.yaml", _dump(doc)), journeys)


@fuzz_settings(100)
@given(content=st.text() | st.binary())
@example(content=b"\xff\xfe\x00")
@example(content="\x00")
@example(content="a: " + "9" * 5000)
@example(content="[" * 3000 + "]" * 3000)
@example(content=ALIAS_BOMB)
@example(content="- &a [*a]")
@example(content="? [a, b]\n: c")
@example(content="defaults: {step_timeout: " + "9" * 400 + "h}")
@example(content="location: 0x" + "f" * 20_000)
@example(content="location: !!timestamp 2001-02-30")
@example(content="agent: {jitter: .nan}")
def test_any_text_or_bytes(scratch: Path, journeys: dict[str, Any], content: str | bytes) -> None:
    check_loads_or_says_why(write(scratch / "text.yaml", content), journeys)


@fuzz_settings(100)
@given(doc=DOCUMENTS | st.dictionaries(KEYS, DOCUMENTS, max_size=8))
def test_any_yaml_shaped_document(scratch: Path, journeys: dict[str, Any], doc: Any) -> None:
    check_loads_or_says_why(write(scratch / "doc.yaml", _dump(doc)), journeys)


@fuzz_settings(150)
@given(doc=mutated_documents())
def test_mutations_of_a_good_config(scratch: Path, journeys: dict[str, Any], doc: Any) -> None:
    check_loads_or_says_why(write(scratch / "mutated.yaml", _dump(doc)), journeys)


@fuzz_settings(120)
@given(content=mutated_texts())
def test_text_edits_of_a_good_config(
    scratch: Path, journeys: dict[str, Any], content: str | bytes
) -> None:
    check_loads_or_says_why(write(scratch / "edited.yaml", content), journeys)


# --- through the real CLI ------------------------------------------------------------------


@fuzz_settings(2)
@given(content=mutated_texts() | mutated_documents().map(_dump))
@example(content=ALIAS_BOMB)
@example(content="[" * 3000 + "]" * 3000)
def test_validate_command_exits_0_or_2_without_traceback(
    scratch: Path, content: str | bytes
) -> None:
    path = write(scratch / "cli.yaml", content)
    result = run_cli("checkout-monitor", "validate", str(path), env=ENVIRON, timeout=60)
    assert result.returncode in (0, 2), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr[-3000:]
    if result.returncode == 0:
        assert result.stdout.startswith(f"{path}: OK:")
    else:
        assert str(path) in result.stderr, result.stderr[-3000:]
        assert len(result.stderr.splitlines()) <= MAX_ERROR_LINES + 1
