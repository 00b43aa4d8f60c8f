"""Values that came from ``${ENV}`` in the config never leave the process in clear text."""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "<value from the environment>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text``, longest first so overlapping secrets go whole."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text
