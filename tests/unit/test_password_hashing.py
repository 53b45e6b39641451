"""The test suite hashes passwords at argon2's lowest cost (``XINGDONG_PASSWORD_HASHING``);
such a hash still verifies, and a server at the standard cost rehashes it."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, extract_parameters, profiles

from xingdong.core import security


def test_the_suite_hashes_at_the_lowest_cost_and_standard_servers_rehash_such_hashes() -> None:
    assert os.environ["XINGDONG_PASSWORD_HASHING"] == "cheapest"
    hashed = security.hash_password("correct horse")
    assert extract_parameters(hashed) == profiles.CHEAPEST
    assert security.verify_password(hashed, "correct horse")
    assert not security.verify_password(hashed, "wrong horse")
    assert not security.verify_password(None, "correct horse")
    assert not security.password_needs_rehash(hashed)
    assert PasswordHasher().check_needs_rehash(hashed)
