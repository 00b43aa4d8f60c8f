"""The signature on a hosted payment page's return URL: HMAC-SHA256 over the session id and
the result, with a secret only the shop and the payment sandbox know."""

from __future__ import annotations

import hashlib
import hmac


def sign_result(secret: bytes, session_id: str, result: str) -> str:
    """The hex signature the sandbox appends to the shop's return URL."""
    message = f"{session_id}|{result}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def result_is_signed(secret: bytes, session_id: str, result: str, signature: str) -> bool:
    """Whether `signature` is the sandbox's for this session and result (constant time)."""
    return hmac.compare_digest(sign_result(secret, session_id, result), signature)
