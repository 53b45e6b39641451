"""Passwords (argon2id), opaque tokens, keyed hashes and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost

# A dummy hash to verify against when the account does not exist, so that a wrong phone
# number and a wrong password take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """An opaque bearer or session token: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What we store instead of a token: a stolen table grants no sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(secret: str, csrf_cookie: str) -> str:
    """Signed double-submit: the form carries a MAC of the cookie value, which a site that
    can plant cookies still cannot compute."""
    return keyed_digest(secret, "csrf:" + csrf_cookie)


def csrf_token_matches(secret: str, csrf_cookie: str | None, submitted: str | None) -> bool:
    if not csrf_cookie or not submitted:
        return False
    return hmac.compare_digest(csrf_token_for(secret, csrf_cookie), submitted)


def new_numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def digests_match(expected: str, stored: str) -> bool:
    return hmac.compare_digest(expected, stored)
