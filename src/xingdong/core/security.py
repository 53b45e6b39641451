"""Passwords (argon2id), opaque tokens, keyed hashes and CSRF tokens."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError


@functools.cache
def _hasher() -> tuple[PasswordHasher, str]:
    """The password hasher of ``XINGDONG_PASSWORD_HASHING``, read once a process, and a
    dummy hash to verify against when the account does not exist (so that a wrong phone
    number and a wrong password take the same time)."""
    from xingdong.core.settings import Settings

    if Settings().password_hashing == "cheapest":  # noqa: S105 - a setting, not a password
        # Test suites: argon2id at its lowest cost. A hash made so is rehashed at the next
        # sign-in under the standard setting (``password_needs_rehash``).
        hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    else:
        hasher = PasswordHasher()  # argon2id with the library's current recommended cost
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


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
