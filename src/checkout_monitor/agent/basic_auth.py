"""Basic auth against bcrypt hashes, cheap for the scraper that asks every few seconds, and
not to be starved by a flood of wrong passwords.

bcrypt is slow on purpose (about 50-100 ms at cost 10). A verified password is remembered as
an HMAC under a key that lives only in this process, so the next scrape costs a hash and a
constant-time comparison; the password itself is never kept. A reload keeps what it
remembers for every user whose hash did not change.

Every new guess pays the full bcrypt, but no lock makes every request wait for every other:
- at most ``BCRYPT_SLOTS`` checks run at once, so a flood holds that many cores at most
  (the journeys' browser needs the rest);
- one client address may have at most ``CHECKS_PER_CLIENT`` checks queued or running; more
  are answered "busy" at once, so one flooding address holds a few connections, not all, and
  a scraper elsewhere waits behind a handful of checks, not behind the whole flood;
- the same wrong credentials sent again are refused from memory (one check however many
  connections carry them), since they cannot become right until the hash changes, and that
  is a new ``BasicAuth``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from enum import Enum

import bcrypt

REALM = 'Basic realm="checkout-monitor", charset="UTF-8"'  # the WWW-Authenticate challenge
BCRYPT_SLOTS = 2
CHECKS_PER_CLIENT = 4
_REMEMBERED_FAILURES = 1024  # wrong credentials refused from memory; the oldest are forgotten
_BCRYPT_MAX_BYTES = 72  # bcrypt ignores (bcrypt>=5 refuses) anything longer


class Verdict(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # no or wrong credentials: 401
    BUSY = "busy"  # this address has too many checks in progress: 429, try again


class _BcryptPool:
    """Who may run bcrypt now: shared by a BasicAuth and the ones that replace it on reload,
    so the limits hold across a reload too, while requests begun before it finish."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(BCRYPT_SLOTS)
        self._lock = threading.Lock()
        self._per_client: Counter[str] = Counter()  # checks queued or running by address
        self._running = 0
        self.checks = 0  # how often bcrypt really ran
        self.most_at_once = 0  # the most checks seen running together

    def enter(self, client: str) -> bool:
        """Queue a check for ``client``, unless it already has its share queued or running."""
        with self._lock:
            if self._per_client[client] >= CHECKS_PER_CLIENT:
                return False
            self._per_client[client] += 1
            return True

    def leave(self, client: str) -> None:
        with self._lock:
            self._per_client[client] -= 1
            if not self._per_client[client]:
                del self._per_client[client]

    def check(self, password: bytes, hashed: bytes) -> bool:
        """bcrypt, once one of the slots is free (the semaphore wakes waiters in turn)."""
        with self._slots:
            with self._lock:
                self.checks += 1
                self._running += 1
                self.most_at_once = max(self.most_at_once, self._running)
            try:
                return bcrypt.checkpw(password, hashed)
            finally:
                with self._lock:
                    self._running -= 1


class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against ``users`` (name: bcrypt hash).

    ``previous``: the one this replaces on a reload; what it verified for users whose hash
    is unchanged stays verified, so a reload costs the scraper no bcrypt.
    """

    def __init__(self, users: Mapping[str, bytes], previous: BasicAuth | None = None) -> None:
        self._users = dict(users)
        self._lock = threading.Lock()  # guards the caches below; never held during bcrypt
        self._checking: dict[bytes, threading.Event] = {}  # credentials being checked now
        self._refused: OrderedDict[bytes, None] = OrderedDict()  # wrong credentials
        self._verified: dict[str, bytes] = {}  # user: HMAC of the password last verified
        self._pool: _BcryptPool = previous._pool if previous else _BcryptPool()
        self._checks_before = self._pool.checks
        # an unknown user costs as much as a known one: timing does not tell which names exist
        cost = max(int(next(iter(self._users.values()), b"$2b$10$").split(b"$")[2] or 10), 4)
        self._key: bytes
        self._decoy: bytes
        if previous is not None:
            self._key = previous._key
            with previous._lock:
                self._verified = {
                    user: digest
                    for user, digest in previous._verified.items()
                    if previous._users.get(user) == self._users.get(user)
                }
            reuse = previous._decoy.split(b"$")[2] == b"%02d" % cost
            self._decoy = previous._decoy if reuse else _decoy(cost)
        else:
            self._key = secrets.token_bytes(32)
            self._decoy = _decoy(cost)

    @property
    def bcrypt_checks(self) -> int:
        """How often bcrypt really ran since this config came in: the caches, made visible."""
        return self._pool.checks - self._checks_before

    @property
    def most_at_once(self) -> int:
        """The most bcrypt checks that ever ran together (never above BCRYPT_SLOTS)."""
        return self._pool.most_at_once

    def allows(self, header: str | None, client: str = "") -> bool:
        return self.check(header, client) is Verdict.ALLOWED

    def check(self, header: str | None, client: str = "") -> Verdict:
        """The verdict on one request's header; ``client`` is its address, for fairness."""
        credentials = _credentials(header)
        if credentials is None:
            return Verdict.REFUSED
        user, password = credentials
        digest = hmac.new(self._key, password, hashlib.sha256).digest()
        # the user name holds no ':', so user:password names one pair of credentials
        pair = hmac.new(self._key, user.encode() + b":" + password, hashlib.sha256).digest()
        while True:
            with self._lock:
                remembered = self._verified.get(user)
                if remembered is not None and hmac.compare_digest(remembered, digest):
                    return Verdict.ALLOWED
                if pair in self._refused:
                    self._refused.move_to_end(pair)
                    return Verdict.REFUSED
                same = self._checking.get(pair)
                if same is None:
                    if not self._pool.enter(client):
                        return Verdict.BUSY
                    done = self._checking[pair] = threading.Event()
                    break
            same.wait()  # the same credentials are being checked: share that answer
        matches = False
        try:
            hashed = self._users.get(user)
            matches = (
                len(password) <= _BCRYPT_MAX_BYTES
                and self._pool.check(password, hashed or self._decoy)
                and hashed is not None
            )
        finally:
            self._pool.leave(client)
            with self._lock:
                if matches:
                    self._verified[user] = digest  # one per configured user: bounded
                else:
                    self._refused[pair] = None
                    if len(self._refused) > _REMEMBERED_FAILURES:
                        self._refused.popitem(last=False)
                del self._checking[pair]
            done.set()
        return Verdict.ALLOWED if matches else Verdict.REFUSED


def _decoy(cost: int) -> bytes:
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost))


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
