"""Evidence is scrubbed of secrets before it is written: the config's ``${ENV}`` values, the
card numbers a journey types, and the card's security code.

Every value is found by :mod:`checkout_monitor.evidence.redaction` in any case and escape; here are
added the card numbers with or without spaces or dashes, a secret email plus-addressed
(``name+tag@host``), and traces' network records lose their cookies and credentials.
A CVC is too short to scrub everywhere ("123" is also a price or a product id), so it is
scrubbed only where it stands as a whole value: a quoted string (an attribute, a JSON value)
or a form field (``cvc=123&``).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from checkout_monitor.config.sandbox_cards import digits_of
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.evidence.redaction import MIN_SECRET_LENGTH, Redactor

PLACEHOLDER = "••••"
_MIN_CODE_LENGTH = 3  # a shorter security code cannot be told from any other digit
# A code as a whole value: quoted (an attribute, a JSON string, also JSON in JSON)...
_QUOTED = r"(?P<before>\\?[\"'])(?:{code})(?P<after>\\?[\"'])"
# ...a JSON number...
_JSON_NUMBER = r"(?P<before>\"\s*:\s*)(?:{code})(?P<after>\s*[,}}\]])"
# ...the value of a multipart form part...
_MULTIPART = (
    r"(?P<before>name=\"[^\"\r\n]*\"\r?\n(?:[^\r\n]+\r?\n)*\r?\n)(?:{code})(?P<after>\r?\n)"
)
# ...or a field of a form post or query string (which may itself sit in a JSON string).
_FORM_FIELD = r"(?P<before>=)(?:{code})(?P<after>[&#\s\"'\\]|$)"
_CODE_FORMS = (_QUOTED, _JSON_NUMBER, _MULTIPART, _FORM_FIELD)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# trace entries that hold network records (HAR-like) or may: events, network, JSON resources
_RECORDS = (".network", ".trace", ".json")
_CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})
# only lines that may hold one are parsed: the word alone is on every page with a cookie banner
_CREDENTIAL_HINT = re.compile(rb'(?i)"(?:cookies?|set-cookie|(?:proxy-)?authorization)"')


class EvidenceRedactor:
    """Scrubs every text and file that goes into the artifacts folder."""

    def __init__(
        self, secrets: Iterable[str], codes: Iterable[str] = (), cards: Iterable[str] = ()
    ) -> None:
        cards = set(cards)
        secrets = {s for s in [*secrets, *cards] if s.strip()}
        # as a shopper would see them on the page, for masking screenshots; a short one would
        # mask every element that holds those letters
        self.plain = frozenset(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
        # card numbers are not looked for in base64: a page has no reason to encode them, and
        # each form would be one more search through every trace
        self._redactor = Redactor(secrets, PLACEHOLDER, base64_of=set(secrets) - cards)
        self._codes = [
            re.compile(form.format(code=re.escape(code)), re.MULTILINE)
            for code in codes
            if len(code) >= _MIN_CODE_LENGTH
            for form in _CODE_FORMS
        ]
        self._tagged = [_plus_addressed(s) for s in secrets if _EMAIL.fullmatch(s)]

    @classmethod
    def for_profiles(
        cls, profiles: Iterable[StorefrontProfile], secrets: Iterable[str]
    ) -> EvidenceRedactor:
        """For a whole run's reports: every storefront's cards and codes."""
        profiles = list(profiles)
        numbers = [number for profile in profiles for number in profile.card_numbers]
        cards = {form for number in numbers for form in _card_forms(number)}
        return cls(secrets, [p.card.cvc.strip() for p in profiles], cards)

    @classmethod
    def for_profile(cls, profile: StorefrontProfile, secrets: Iterable[str]) -> EvidenceRedactor:
        """The config's secrets plus every card the profile types and its security code."""
        return cls.for_profiles([profile], secrets)

    def text(self, text: str) -> str:
        text = self._redactor.text(text)
        for tagged in self._tagged:
            text = tagged.sub(PLACEHOLDER, text)
        for pattern in self._codes:
            text = pattern.sub(_code_replacement, text)
        return text

    __call__ = text

    def data(self, data: bytes) -> bytes:
        """Bytes that may or may not be UTF-8 text; what is not text passes through as is."""
        return self.text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def zip_file(self, source: Path, target: Path) -> None:
        """Copy the zip ``source`` (a Playwright trace) to ``target``, every entry scrubbed,
        and its network records without cookies or credentials."""
        with (
            zipfile.ZipFile(source) as original,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as scrubbed,
        ):
            for entry in original.infolist():
                if entry.is_dir():
                    continue
                info = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                data = original.read(entry)
                if entry.filename.endswith(_RECORDS):
                    data = without_credentials(data)
                scrubbed.writestr(info, self.data(data))


def without_credentials(data: bytes) -> bytes:
    """A trace's JSON lines (or one JSON document) with every ``cookies`` list emptied and
    the values of cookie and authorization headers replaced: a session cookie can carry the
    shopper's email compressed (no redaction can see into it), a header a password in base64.
    The header's name stays, so a reader sees that one was sent."""
    if not _CREDENTIAL_HINT.search(data):
        return data
    try:  # a resource: one document, maybe over many lines
        return json.dumps(_strip(json.loads(data)), ensure_ascii=False).encode()
    except ValueError:  # JSON lines (the first record parsed, the rest is "extra data")
        pass
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if not _CREDENTIAL_HINT.search(line):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        lines[i] = json.dumps(_strip(record), ensure_ascii=False).encode()
    return b"\n".join(lines)


def _strip(value: Any) -> Any:
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if not isinstance(value, dict):
        return value
    stripped: dict[str, Any] = {}
    for key, item in value.items():
        if key.lower() == "cookies" and isinstance(item, list):
            stripped[key] = []
        elif key.lower() in _CREDENTIAL_HEADERS and isinstance(item, str):
            stripped[key] = PLACEHOLDER  # headers as a mapping
        else:
            stripped[key] = _strip(item)
    if _is_header(value) and value["name"].lower() in _CREDENTIAL_HEADERS:
        stripped["value"] = PLACEHOLDER
    return stripped


def _is_header(value: dict[str, Any]) -> bool:
    """``{"name": ..., "value": ...}``, as HAR and Playwright's events list headers."""
    return isinstance(value.get("name"), str) and isinstance(value.get("value"), str)


def _plus_addressed(email: str) -> re.Pattern[str]:
    """A secret email with a tag (``name+tag@host``, as a journey makes it to tell its own
    orders apart), plain or URL-encoded: the tag is new each run, the address is still secret."""
    local, _, host = email.partition("@")
    return re.compile(
        rf"{re.escape(local)}(?:\+|%2B)[A-Za-z0-9._~-]*(?:@|%40){re.escape(host)}", re.IGNORECASE
    )


def _card_forms(number: str) -> set[str]:
    """A card number as configured, digits only, and grouped in fours by spaces or dashes."""
    digits = digits_of(number)
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    forms = {number.strip(), digits, " ".join(groups), "-".join(groups)}
    if len(digits) == 15:  # American Express: 4-6-5
        amex = [digits[:4], digits[4:10], digits[10:]]
        forms |= {" ".join(amex), "-".join(amex)}
    return forms


def _code_replacement(match: re.Match[str]) -> str:
    """The code goes; what told it apart (quotes, the field name, the separator) stays."""
    return f"{match['before']}{PLACEHOLDER}{match['after']}"
