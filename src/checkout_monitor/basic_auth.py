"""Basic auth against bcrypt hashes, cheap for the scraper that asks every few seconds.

bcrypt is slow on purpose (about 50-100 ms at cost 10). A verified password is remembered as
an HMAC under a key that lives only in this process, so the next scrape costs a hash and a
constant-time comparison; the password itself is never kept. Wrong passwords always pay the
full bcrypt, one at a time, so guessing stays slow and a flood of them holds one core at most.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping

import bcrypt

REALM = 'Basic realm="checkout-monitor", charset="UTF-8"'  # the WWW-Authenticate challenge
_BCRYPT_MAX_BYTES = 72  # bcrypt ignores (bcrypt>=5 refuses) anything longer


class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against ``users`` (name: bcrypt hash)."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}  # user: HMAC of the password last verified
        self._bcrypt_lock = threading.Lock()
        self.bcrypt_checks = 0  # how often bcrypt really ran: the cache is visible in tests
        # an unknown user costs as much as a known one: timing does not tell which names exist
        cost = int(next(iter(self._users.values()), b"$2b$10$").split(b"$")[2] or 10)
        self._decoy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(max(cost, 4)))

    def allows(self, header: str | None) -> bool:
        credentials = _credentials(header)
        if credentials is None:
            return False
        user, password = credentials
        digest = hmac.new(self._key, password, hashlib.sha256).digest()
        remembered = self._verified.get(user)
        if remembered is not None and hmac.compare_digest(remembered, digest):
            return True
        hashed = self._users.get(user)
        with self._bcrypt_lock:
            self.bcrypt_checks += 1
            matches = len(password) <= _BCRYPT_MAX_BYTES and bcrypt.checkpw(
                password, hashed or self._decoy
            )
        if matches and hashed is not None:
            self._verified[user] = digest  # one per configured user: the cache stays bounded
            return True
        return False


def _credentials(header: str | None) -> tuple[str, bytes] | None:
    """User and password from a Basic Authorization header, or None if it is not one."""
    if header is None:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None
