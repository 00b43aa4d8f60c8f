"""Evidence is scrubbed of secrets before it is written: the config's ``${ENV}`` values, the
card numbers a journey types, and the card's security code.

Every value is also scrubbed in the forms it takes on its way through a browser and a
trace: HTML-escaped, JSON-escaped, URL-encoded (form posts, query strings), card numbers
with or without spaces or dashes, and a secret email plus-addressed (``name+tag@host``).
A CVC is too short to scrub everywhere ("123" is also a price or a product id), so it is
scrubbed only where it stands as a whole value: a quoted string (an attribute, a JSON value)
or a form field (``cvc=123&``).
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

from checkout_monitor.redaction import MIN_SECRET_LENGTH, redact
from checkout_monitor.storefront_profile import StorefrontProfile
from checkout_monitor.test_cards import digits_of

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


class EvidenceRedactor:
    """Scrubs every text and file that goes into the artifacts folder."""

    def __init__(self, secrets: Iterable[str], codes: Iterable[str] = ()) -> None:
        secrets = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self.plain = frozenset(secrets)  # as a shopper would see them on the page
        values: set[str] = set()
        for secret in secrets:
            values |= _encodings(secret)
        self.values = frozenset(v for v in values if len(v) >= MIN_SECRET_LENGTH)
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
        return cls({*secrets, *cards}, [p.card.cvc.strip() for p in profiles])

    @classmethod
    def for_profile(cls, profile: StorefrontProfile, secrets: Iterable[str]) -> EvidenceRedactor:
        """The config's secrets plus every card the profile types and its security code."""
        return cls.for_profiles([profile], secrets)

    def text(self, text: str) -> str:
        text = redact(text, self.values, PLACEHOLDER)
        for tagged in self._tagged:
            text = tagged.sub(PLACEHOLDER, text)
        for pattern in self._codes:
            text = pattern.sub(_code_replacement, text)
        return text

    def data(self, data: bytes) -> bytes:
        """Bytes that may or may not be UTF-8 text; what is not text passes through as is."""
        return self.text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def zip_file(self, source: Path, target: Path) -> None:
        """Copy the zip ``source`` (a Playwright trace) to ``target``, every entry scrubbed."""
        with (
            zipfile.ZipFile(source) as original,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as scrubbed,
        ):
            for entry in original.infolist():
                if entry.is_dir():
                    continue
                info = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                scrubbed.writestr(info, self.data(original.read(entry)))


def _encodings(value: str) -> set[str]:
    """``value`` as it may appear in HTML, JSON, URLs and form posts."""
    return {
        value,
        html.escape(value),
        html.escape(value, quote=False),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        quote_plus(value, safe="@"),
    }


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
