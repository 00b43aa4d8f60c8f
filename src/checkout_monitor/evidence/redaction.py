"""Secrets never leave the process in clear text: the config's ``${ENV}`` values, the card
numbers a journey types and the card's security code.

One module for every output (the console, the log, reports, evidence, traces, the alert
state and notifications), so there is one place to read how a secret is found, however a
page or a server spells it, and what is left in its place.
"""

from __future__ import annotations

import base64
import html.entities
import json
import logging
import re
import zipfile
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkout_monitor.config.sandbox_cards import digits_of
from checkout_monitor.results import (
    BlockedRequest,
    Evidence,
    FailedRequest,
    JourneyResult,
    StepResult,
)

if TYPE_CHECKING:
    from checkout_monitor.config.storefront_profile import StorefrontProfile

# What is left in a secret's place.
REDACTED = "<value from the environment>"
MARKUP_SAFE = "••••"  # in HTML, XML and JSON, where angle brackets would break the document
PLACEHOLDER = MARKUP_SAFE  # in evidence and traces: pages and JSON


# --- Finding a value --------------------------------------------------------------------------
# In any case (a shop upper-cases discount codes), with any of its characters escaped for HTML
# (&#39;, &#x27;, &#0039, &amp;, &apos;), URLs (%27, %2b, "+" for a space) or JSON and
# JavaScript (\u0027, \x27, \"), in any mix of these and nested once (&amp;#39;), and in
# base64 (standard and URL-safe) where it is long enough.
#
# How: the text is *folded* (escapes of the secrets' characters decoded, lower-cased, "+" read
# as a space) while remembering where each folded character came from; each folded secret is
# looked up with str.find and the span it covers in the original text is replaced. Only
# escapes that decode to a character some secret holds are decoded, so JSON's many \" and \n
# cost nothing unless a secret holds a quote.

# Shorter values ("on", "443", "demo") are also words and numbers: found inside longer words
# they would shred every message ("product-to-checkout"), so they go only as whole tokens.
MIN_SECRET_LENGTH = 6
# Base64 of a shorter value is a handful of characters that turn up by chance in any
# trace's hashes and images; from 8 bytes on, the 9+ characters it leaves are specific.
BASE64_MIN_BYTES = 8
_NESTING = 2  # "&amp;#39;" and "%2527": an escape of an escape is decoded too
_INTRODUCERS = "&%\\"  # decoded so that a nested escape can be read on the second pass
_HTML_NAMES: dict[str, list[str]] = {}
for _name, _value in html.entities.html5.items():
    if len(_value) == 1:
        _HTML_NAMES.setdefault(_value, []).append(_name)
_TOKEN_CHAR = re.compile(r"\w")
# from a span of a folded text to the span of the text it was folded from
_Back = Callable[[int, int], tuple[int, int]]


class Redactor:
    """Finds and replaces a fixed set of secrets; build once, use on many texts."""

    def __init__(
        self,
        secrets: Iterable[str],
        placeholder: str = REDACTED,
        *,
        words: bool = False,
        base64_of: Iterable[str] | None = None,
    ) -> None:
        """``words``: a short secret takes the whole word it sits in (up to whitespace);
        ``base64_of``: the secrets looked for in base64 too (default: all)."""
        self.placeholder = placeholder
        self._words = words
        kept = {s for s in secrets if s.strip()}
        self.secrets = frozenset(kept)
        folded = {_fold(s): len(s) >= MIN_SECRET_LENGTH for s in kept}
        # a value that is both long and short (two spellings) is searched as the long one
        self._long = sorted({f for f, long in folded.items() if long}, key=len, reverse=True)
        self._short = sorted({f for f, long in folded.items() if not long} - set(self._long))
        encoded = kept if base64_of is None else kept & set(base64_of)
        self._base64 = sorted({b for s in encoded for b in _base64_forms(s)})
        wanted = {c for f in folded for c in f}
        self._escape = _escape_pattern(wanted | set(_INTRODUCERS)) if wanted else None

    def text(self, text: str) -> str:
        """``text`` with every secret in any spelling replaced by the placeholder."""
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        last = 0
        for start, end in spans:
            out += (text[last:start], self.placeholder)
            last = end
        out.append(text[last:])
        return "".join(out)

    __call__ = text

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where secrets sit in ``text``: sorted, merged ``(start, end)`` pairs."""
        if self._escape is None or not text:
            return []
        found: list[tuple[int, int]] = []
        views = self._views(text)
        for folded, back in views:
            found += [back(s, e) for s, e in self._find(folded)]
        for form in self._base64:
            found += [(s, s + len(form)) for s in _occurrences(text, form)]
        return _merged(found)

    def _views(self, text: str) -> list[tuple[str, _Back]]:
        """The text folded; folded again if that decoded the start of another escape."""
        assert self._escape is not None
        views: list[tuple[str, _Back]] = []
        current: str = text
        back: _Back = _identity
        for _ in range(_NESTING):
            folded, step, nested = _fold_pass(current, self._escape)
            back = _compose(back, step)
            views.append((folded, back))
            if not nested:
                break
            current = folded
        return views

    def _find(self, folded: str) -> list[tuple[int, int]]:
        found = [(s, s + len(f)) for f in self._long for s in _occurrences(folded, f)]
        for secret in self._short:
            for start in _occurrences(folded, secret):
                end = start + len(secret)
                if self._words:
                    found.append(_widen(folded, start, end))
                elif _is_token(folded, start, end):
                    found.append((start, end))
        return found


class _BackFn:
    """Maps a span of a folded text back to the span of the text it was folded from."""

    def __init__(self, at: list[int], starts: list[int], ends: list[int]) -> None:
        self._at, self._starts, self._ends = at, starts, ends  # one entry per decoded escape

    def __call__(self, start: int, end: int) -> tuple[int, int]:
        return self._position(start, True), self._position(end - 1, False)

    def _position(self, index: int, start: bool) -> int:
        i = bisect_left(self._at, index)
        if i < len(self._at) and self._at[i] == index:
            return self._starts[i] if start else self._ends[i]
        shift = self._ends[i - 1] - self._at[i - 1] - 1 if i else 0
        return index + shift + (0 if start else 1)


def _identity(start: int, end: int) -> tuple[int, int]:
    return start, end


def _compose(outer: _Back, inner: _Back) -> _Back:
    """Back through ``inner`` (the later pass), then ``outer``."""
    if inner is _identity:
        return outer
    if outer is _identity:
        return inner
    return lambda start, end: outer(*inner(start, end))


def _fold_pass(text: str, escape: re.Pattern[str]) -> tuple[str, _Back, bool]:
    """``text`` with the wanted escapes decoded and case folded, the way back, and whether
    an escape decoded to the start of another escape (worth a second pass)."""
    nested = False
    at: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    pieces: list[str] = []
    last = length = 0
    for match in escape.finditer(text):
        start, end = match.span()
        char = _decode(match[0])
        if char is None:
            continue
        nested = nested or char in _INTRODUCERS
        pieces += (text[last:start], char)
        length += start - last
        at.append(length)
        starts.append(start)
        ends.append(end)
        length += 1
        last = end
    if not at:
        return _fold(text), _identity, False
    pieces.append(text[last:])
    return _fold("".join(pieces)), _BackFn(at, starts, ends), nested


def _fold(text: str) -> str:
    """Lower case, length kept (a few letters lower to two characters: those stay)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # the same character on both sides: a form's "+" is a space, and a secret with "+" (a
    # plus-addressed email) is then found written with "+", " " or "%2B"
    return lowered.replace("+", " ").replace("\xa0", " ")  # str.translate is 10x slower


def _decode(token: str) -> str | None:
    """The one character an escape stands for."""
    head = token[:2]
    if head in ("&#",):
        digits = token[2:].rstrip(";")
        code = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
    elif token[0] == "&":
        value = html.entities.html5.get(token[1:])
        return value if value is not None and len(value) == 1 else None
    elif head in ("%u", "%U", "\\u", "\\x"):
        code = int(token[2:], 16)
    elif token[0] == "%":
        code = int(token[1:], 16)
    else:  # a backslash-escaped quote, slash or backslash
        return token[1]
    return chr(code) if code < 0x110000 else None


def _escape_pattern(folded_chars: set[str]) -> re.Pattern[str]:
    """Every escape that decodes to a character which folds to one of ``folded_chars``.

    Grouped by how an escape starts (``&``, ``%``, ``\\``), so the regex engine skips in C
    to the next of those three characters instead of trying each escape at every position.
    """
    chars = set()
    for f in folded_chars:
        chars |= {f, f.upper(), *({"+", "\xa0"} if f == " " else ())}
    codes = sorted(ord(c) for c in chars if len(c) == 1 and _fold(c) in folded_chars)
    names = sorted(
        (re.escape(name) for code in codes for name in _HTML_NAMES.get(chr(code), ())),
        key=len,
        reverse=True,  # "amp;" before "amp"
    )
    decimal = "|".join(str(code) for code in codes)
    hexes = "|".join(_hex(code) for code in codes)
    bytes2 = "|".join(_hex(code, 2) for code in codes if code < 0x100)
    units4 = "|".join(_hex(code, 4) for code in codes if code < 0x10000)
    quoted = "".join(re.escape(c) for c in "\"'\\/" if ord(c) in codes)
    html_forms = [rf"#0*(?:{decimal})(?![0-9]);?", rf"#[xX]0*(?:{hexes})(?![0-9a-fA-F]);?"]
    if names:
        html_forms.append(f"(?:{'|'.join(names)})")
    percent = [f"[uU](?:{units4})"] if units4 else []
    backslash = [f"u(?:{units4})"] if units4 else []
    if bytes2:
        percent.append(f"(?:{bytes2})")
        backslash.append(f"x(?:{bytes2})")
    if quoted:
        backslash.append(f"[{quoted}]")
    alternatives = [f"&(?:{'|'.join(html_forms)})"]
    alternatives += [f"%(?:{'|'.join(percent)})"] if percent else []
    alternatives += [f"\\\\(?:{'|'.join(backslash)})"] if backslash else []
    return re.compile("|".join(alternatives))


def _hex(code: int, width: int = 0) -> str:
    """``code`` in hex as a pattern that takes either case of each digit."""
    digits = f"{code:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _base64_forms(secret: str) -> set[str]:
    """The stretches of base64 that only the secret's own bytes decide, at each of the three
    alignments, standard and URL-safe, for the secret as written and upper-cased (as a shop
    may keep a code it upper-cased in a token)."""
    forms: set[str] = set()
    for variant in {secret, secret.upper()}:
        data = variant.encode()
        if len(data) < BASE64_MIN_BYTES:
            continue
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + data).decode()
            # character i holds bits 6i..6i+6: keep those entirely inside the secret's bits
            first = -(-8 * pad // 6)
            last = 8 * (pad + len(data)) // 6
            stable = encoded[first:last]
            forms |= {stable, stable.translate(str.maketrans("+/", "-_"))}
    return forms


def _occurrences(text: str, needle: str) -> list[int]:
    found: list[int] = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _is_token(text: str, start: int, end: int) -> bool:
    """Not inside a longer word or number: "ab1" in "ab1," but not in "ab12"."""
    before = start > 0 and _TOKEN_CHAR.match(text, start - 1) is not None
    after = end < len(text) and _TOKEN_CHAR.match(text, end) is not None
    return not (before or after)


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Out to the whitespace on either side."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


# --- Text: the console, reports, the alert state, notifications, config errors ---------------


def redact(text: str, secrets: Iterable[str], placeholder: str = REDACTED) -> str:
    """``text`` with every secret replaced (see :class:`Redactor`)."""
    return _cached(frozenset(secrets), placeholder).text(text)


def redact_words(text: str, secrets: Iterable[str], placeholder: str = REDACTED) -> str:
    """For config errors: a short secret takes the whole word it sits in, so a value quoted
    back (``'https://x/ab1z'``) never shows even part of it."""
    return _cached(frozenset(secrets), placeholder, words=True).text(text)


@lru_cache(maxsize=64)
def _cached(secrets: frozenset[str], placeholder: str, *, words: bool = False) -> Redactor:
    return Redactor(secrets, placeholder, words=words)


# --- Evidence files and traces ----------------------------------------------------------------
# Besides the config's secrets: the card numbers a journey types, with or without spaces or
# dashes; a secret email plus-addressed (name+tag@host); and traces' network records lose
# their cookies and credentials. A CVC is too short to scrub everywhere ("123" is also a price
# or a product id), so it is scrubbed only where it stands as a whole value: a quoted string
# (an attribute, a JSON value) or a form field (cvc=123&).

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
        secrets, cards = set(secrets), set(cards)
        # card numbers are not looked for in base64: a page has no reason to encode them, and
        # each form would be one more search through every trace
        self._redactor = Redactor([*secrets, *cards], PLACEHOLDER, base64_of=secrets - cards)
        kept = self._redactor.secrets  # the blank ones dropped
        # as a shopper would see them on the page, for masking screenshots; a short one would
        # mask every element that holds those letters
        self.plain = frozenset(s for s in kept if len(s) >= MIN_SECRET_LENGTH)
        self._codes = [
            re.compile(form.format(code=re.escape(code)), re.MULTILINE)
            for code in codes
            if len(code) >= _MIN_CODE_LENGTH
            for form in _CODE_FORMS
        ]
        self._tagged = [_plus_addressed(s) for s in kept if _EMAIL.fullmatch(s)]

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


# --- Results ----------------------------------------------------------------------------------
# Scrubbed (by an EvidenceRedactor's text) before any report renders them: a secret escaped by
# HTML, XML or JSON could no longer be found after.

Scrub = Callable[[str], str]


def scrub_results(results: Sequence[JourneyResult], scrub: Scrub) -> list[JourneyResult]:
    """Every text a report, a log line, a metric label or an alert takes from a result."""
    return [_journey(result, scrub) for result in results]


def _journey(result: JourneyResult, scrub: Scrub) -> JourneyResult:
    return replace(
        result,
        # from the config, where a ${ENV} value may have gone into them
        owner=None if result.owner is None else scrub(result.owner),
        runbook=None if result.runbook is None else scrub(result.runbook),
        steps=tuple(_step(step, scrub) for step in result.steps),
        evidence=_evidence(result.evidence, scrub),
        earlier_attempts=tuple(_journey(a, scrub) for a in result.earlier_attempts),
        blocked_requests=tuple(_blocked(b, scrub) for b in result.blocked_requests),
    )


def _step(step: StepResult, scrub: Scrub) -> StepResult:
    return replace(step, name=scrub(step.name), message=scrub(step.message))


def _evidence(evidence: Evidence | None, scrub: Scrub) -> Evidence | None:
    if evidence is None:
        return None
    return replace(
        evidence,
        console_errors=tuple(scrub(line) for line in evidence.console_errors),
        failed_requests=tuple(_request(r, scrub) for r in evidence.failed_requests),
        broken_images=tuple(scrub(url) for url in evidence.broken_images),
        problems=tuple(scrub(problem) for problem in evidence.problems),
    )


def _blocked(blocked: BlockedRequest, scrub: Scrub) -> BlockedRequest:
    return replace(blocked, host=scrub(blocked.host), example_url=scrub(blocked.example_url))


def _request(request: FailedRequest, scrub: Scrub) -> FailedRequest:
    return replace(request, url=scrub(request.url), error=scrub(request.error))


# --- Logs -------------------------------------------------------------------------------------


class LogRedaction(logging.Filter):
    """On the log's handlers: every record is redacted of the secrets known so far, whoever
    logged it (a library's retry line quoting a URL, a traceback with a --verbose run).
    Secrets are only ever added: after a reload, a run still going may log the old ones."""

    def __init__(self) -> None:
        super().__init__()
        self._redactor = Redactor(())

    def add(self, secrets: Iterable[str]) -> None:
        # one assignment: a record being filtered on another thread sees the old or the new
        self._redactor = Redactor(self._redactor.secrets | set(secrets))

    def text(self, text: str) -> str:
        """``text`` redacted of the secrets known so far: for what a command prints itself."""
        return self._redactor.text(text)

    def install(self, logger: logging.Logger) -> None:
        """On every handler of ``logger`` (a handler's filters see records from any logger)."""
        for handler in logger.handlers:
            if self not in handler.filters:
                handler.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self._redactor
        if not redactor.secrets:
            return True
        record.msg, record.args = redactor.text(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        return True
