"""The listener's web config file: TLS and basic auth in the format of Prometheus's exporter
toolkit (``--web.config.file``), so the agent is secured the way the exporters beside it are.

Only what is implemented is accepted; the toolkit's other keys and values are refused by
name, so nobody believes a setting protects them when it does nothing.
"""

from __future__ import annotations

import difflib
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkout_monitor.config.file_reader import read_config_text
from checkout_monitor.config.locations import Loc, format_loc, line_of
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.config.yaml_reader import read_yaml
from checkout_monitor.errors import ConfigError, ConfigProblem, UsageError

TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
CLIENT_AUTH_TYPES = ("NoClientCert", "RequireAndVerifyClientCert")
# bcrypt's modular crypt format: $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt+hash
BCRYPT_HASH = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")
HASH_HINT = (
    "write the bcrypt hash of the password, never the password itself: "
    "htpasswd -nBC 10 \"\" | tr -d ':\\n' prints one, or "
    "python3 -c 'import bcrypt, getpass; "
    "print(bcrypt.hashpw(getpass.getpass().encode(), bcrypt.gensalt()).decode())'"
)

_TOP_KEYS = ("basic_auth_users", "tls_server_config")
_TLS_KEYS = (
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "min_version",
    "max_version",
)
_INLINE = "inline PEM is not supported: put it in a file and name the file in {}"
_NOT_SUPPORTED = {
    ("http_server_config",): "not supported by checkout-monitor (HTTP/2 and extra headers)",
    ("rate_limit",): "not supported by checkout-monitor: put a reverse proxy in front for that",
    ("tls_server_config", "cert"): _INLINE.format("cert_file"),
    ("tls_server_config", "key"): _INLINE.format("key_file"),
    ("tls_server_config", "client_ca"): _INLINE.format("client_ca_file"),
    ("tls_server_config", "cipher_suites"): (
        "not supported: Python's ssl module chooses the cipher suites (no weak ones)"
    ),
    ("tls_server_config", "prefer_server_cipher_suites"): (
        "not supported: Python's ssl module chooses the cipher suites (no weak ones)"
    ),
    ("tls_server_config", "curve_preferences"): (
        "not supported: Python's ssl module chooses the curves"
    ),
    ("tls_server_config", "client_allowed_sans"): (
        "not supported: every client certificate signed by client_ca_file is accepted"
    ),
}
_WEAK_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven")


@dataclass(frozen=True)
class WebConfig:
    """What the listener enforces: TLS (a ready server context) and bcrypt hashes by user."""

    source: Path
    tls: ssl.SSLContext | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)
    client_certificates: bool = False  # RequireAndVerifyClientCert

    def describe(self) -> str:
        parts = []
        if self.tls is not None:
            parts.append("TLS" + (" with client certificates" if self.client_certificates else ""))
        if self.users:
            parts.append(f"basic auth ({len(self.users)} user{'s' * (len(self.users) != 1)})")
        return " and ".join(parts)


def load_web_config(path: Path) -> WebConfig:
    """Read and check a web config file; every problem names the file, field and line."""
    text = read_config_text(path)  # a regular file of at most 1 MiB: never /dev/zero
    data, lines = read_yaml(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError(
            path,
            [
                ConfigProblem(
                    "", "expected a mapping with tls_server_config and/or basic_auth_users"
                )
            ],
        )
    problems = list(_key_problems(data, (), _TOP_KEYS, lines))
    tls_data = data.get("tls_server_config")
    users_data = data.get("basic_auth_users")
    if tls_data is not None and not isinstance(tls_data, dict):
        problems.append(_at(("tls_server_config",), "expected a mapping of keys", lines))
    elif isinstance(tls_data, dict):
        problems += _key_problems(tls_data, ("tls_server_config",), _TLS_KEYS, lines)
    if users_data is not None and not isinstance(users_data, dict):
        problems.append(
            _at(("basic_auth_users",), "expected a mapping of user: bcrypt hash", lines)
        )
    users = _users(users_data if isinstance(users_data, dict) else {}, lines, problems)
    if problems:
        raise ConfigError(path, problems)
    tls = None
    if isinstance(tls_data, dict):
        tls, problems = _tls_context(tls_data, path.parent, lines)
        if problems:
            raise ConfigError(path, problems)
    if tls is None and not users:
        raise ConfigError(
            path,
            [ConfigProblem("", "sets nothing: give tls_server_config, basic_auth_users or both")],
        )
    mutual = isinstance(tls_data, dict) and tls_data.get("client_auth_type") == CLIENT_AUTH_TYPES[1]
    return WebConfig(path, tls, users, mutual)


def _at(loc: Loc, message: str, lines: Mapping[Loc, int]) -> ConfigProblem:
    return ConfigProblem(format_loc(loc), message, line_of(loc, lines))


def _key_problems(
    data: Mapping[Any, Any], base: Loc, valid: tuple[str, ...], lines: Mapping[Loc, int]
) -> Iterator[ConfigProblem]:
    for key in data:
        loc = (*base, str(key))
        if key in valid:
            continue
        reason = _NOT_SUPPORTED.get(tuple(str(p) for p in loc))
        if reason is None:
            near = difflib.get_close_matches(str(key), valid, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            reason = f"unknown key ({hint}valid keys: {', '.join(valid)})"
        else:
            reason += f"; supported keys here: {', '.join(valid)}"
        yield _at(loc, reason, lines)


def _users(
    data: Mapping[Any, Any], lines: Mapping[Loc, int], problems: list[ConfigProblem]
) -> dict[str, bytes]:
    users: dict[str, bytes] = {}
    for user, hashed in data.items():
        loc: Loc = ("basic_auth_users", str(user))
        if not isinstance(user, str) or not user or ":" in user:
            problems.append(_at(loc, "a user name is text, not empty, without ':'", lines))
        elif not isinstance(hashed, str) or not BCRYPT_HASH.match(hashed):
            # never repeat the value: it may be a password typed where the hash belongs
            problems.append(_at(loc, f"this is not a bcrypt hash; {HASH_HINT}", lines))
        else:
            users[user] = hashed.encode("ascii")
    return users


def _tls_context(
    data: Mapping[str, Any], base_dir: Path, lines: Mapping[Loc, int]
) -> tuple[ssl.SSLContext | None, list[ConfigProblem]]:
    """A server context from the tls_server_config section; files relative to the web config."""
    problems: list[ConfigProblem] = []

    def at(key: str, message: str) -> None:
        problems.append(_at(("tls_server_config", key), message, lines))

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            at(key, f"expected text, got {value!r}")
            return None
        return value

    files: dict[str, Path] = {}
    for key in ("cert_file", "key_file", "client_ca_file"):
        name = text(key)
        if name is None:
            if key != "client_ca_file" and key not in data:
                at(key, "required, but missing")
            continue
        file = (base_dir / name).resolve()
        problem = file_problem(file)
        if problem is not None:
            at(key, f"{problem}: {file}")
        else:
            files[key] = file
    client_auth = text("client_auth_type") or CLIENT_AUTH_TYPES[0]
    if client_auth in _WEAK_CLIENT_AUTH:
        at(
            "client_auth_type",
            f"{client_auth} is not supported: it lets in clients whose certificate is not "
            "checked; use RequireAndVerifyClientCert with client_ca_file, or NoClientCert",
        )
    elif client_auth not in CLIENT_AUTH_TYPES:
        at("client_auth_type", f"{client_auth!r} is not one of: {', '.join(CLIENT_AUTH_TYPES)}")
    elif client_auth == CLIENT_AUTH_TYPES[1] and "client_ca_file" not in data:
        at("client_ca_file", "required with RequireAndVerifyClientCert: the CA that signs clients")
    elif client_auth == CLIENT_AUTH_TYPES[0] and "client_ca_file" in data:
        at("client_ca_file", "only used with client_auth_type: RequireAndVerifyClientCert")
    versions: dict[str, ssl.TLSVersion] = {}
    for key, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        name = text(key) or default
        if name in ("TLS10", "TLS11"):
            at(key, f"{name} is not supported: TLS 1.0 and 1.1 are not safe; use TLS12 or TLS13")
        elif name not in TLS_VERSIONS:
            at(key, f"{name!r} is not one of: {', '.join(TLS_VERSIONS)}")
        else:
            versions[key] = TLS_VERSIONS[name]
    if len(versions) == 2 and versions["min_version"] > versions["max_version"]:
        at("min_version", "is above max_version")
    if problems:
        return None, problems

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = versions["min_version"]
    context.maximum_version = versions["max_version"]
    try:
        context.load_cert_chain(files["cert_file"], files["key_file"], password=_no_passphrase)
    except _EncryptedKeyError:
        at("key_file", "the key is encrypted with a passphrase; give an unencrypted key file")
    except (ssl.SSLError, OSError) as exc:
        at(
            "cert_file",
            f"the certificate and key do not load together ({_reason(exc)}): both PEM, the key "
            "the certificate's own",
        )
    if "client_ca_file" in files:
        try:
            context.load_verify_locations(cafile=files["client_ca_file"])
        except (ssl.SSLError, OSError) as exc:
            at("client_ca_file", f"not a PEM CA certificate ({_reason(exc)})")
        context.verify_mode = ssl.CERT_REQUIRED
    return (None, problems) if problems else (context, [])


class _EncryptedKeyError(Exception):
    pass


def _no_passphrase() -> bytes:
    """Called only for an encrypted key: the agent runs unattended, nobody could type it."""
    raise _EncryptedKeyError


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    return getattr(exc, "strerror", None) or str(exc)


def listener_web_config(loaded: LoadedConfig, override: Path | None) -> WebConfig | None:
    """``serve --web-config``, else the config's agent.web_config_file, else none."""
    if override is not None:
        problem = file_problem(override)
        if problem is not None:
            raise UsageError(f"--web-config: {problem}: {override}")
        return load_web_config(override)
    path = loaded.web_config_file()
    if path is None:
        return None
    problem = file_problem(path)
    if problem is not None:
        loc = ("agent", "web_config_file")
        where = ConfigProblem(format_loc(loc), f"{problem}: {path}", line_of(loc, loaded.lines))
        raise ConfigError(loaded.source, [where])
    return load_web_config(path)


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable file, in words (None when it is one)."""
    try:
        if path.is_dir():
            return "a folder, not a file"
        if not path.exists():
            return "file not found"
        if not path.is_file():  # a device or a FIFO: reading it would never end
            return "not a regular file (a device or a pipe?): give the path of a web config file"
    except OSError as exc:  # e.g. a name too long for the file system
        return f"cannot use this path ({_reason(exc)})"
    return None
