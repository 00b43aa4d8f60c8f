"""Values that came from ``${ENV}`` in the config never leave the process in clear text."""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "<value from the environment>"
MARKUP_SAFE = "••••"  # in HTML, XML and JSON, where angle brackets would break the document
# shorter values ("on", "443", "demo", "prod") are words, not secrets: redacting them would
# shred every message ("product-to-checkout")
MIN_SECRET_LENGTH = 6


def redact(text: str, secrets: Iterable[str], placeholder: str = REDACTED) -> str:
    """Replace every secret in ``text``, longest first so overlapping secrets go whole."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, placeholder)
    return text
