"""The webhook signature and the rules for where a webhook may go."""

from __future__ import annotations

import asyncio

import pytest

from xingdong.insights import signing, targets

BODY = '{"id":"e1","type":"ping","data":{"title":"新品"}}'.encode()


def test_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    secret = signing.new_secret()
    header = signing.signature(secret, BODY, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(secret, BODY, header, now=1_700_000_100)
    assert not signing.verify(secret, BODY + b" ", header, now=1_700_000_100)
    assert not signing.verify(signing.new_secret(), BODY, header, now=1_700_000_100)
    # Too old (a replay) or from the future.
    assert not signing.verify(secret, BODY, header, now=1_700_000_000 + 301)
    assert not signing.verify(secret, BODY, header, now=1_700_000_000 - 301)
    for broken in (
        "",
        "t=abc,v1=00",
        "v1=" + header.split("v1=")[1],
        "t=1700000000",
        "t=1700000000,v1=签名",
    ):
        assert not signing.verify(secret, BODY, broken, now=1_700_000_000)


def test_secrets_are_new_each_time() -> None:
    assert len({signing.new_secret() for _ in range(50)}) == 50


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://exa mple.com/x",
        "ftp://example.com/x",
        "http://example.com/x",
        "https:///nohost",
        "https://user:pw@example.com/x",
        "https://example.com:99999/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://[2002:a00:1::]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[64:ff9b:1::a00:1]/x",
        "https://[fec0::1]/x",
        "https://[::ffff:0:a00:1]/x",
        "https://localhost/x",
        "https://api.localhost/x",
        "https://example.com/" + "x" * 500,
    ],
)
def test_webhooks_refuse_urls_outside_the_public_https_internet(url: str) -> None:
    assert targets.url_problem(url, private_allowed=False) is not None


def test_public_https_urls_pass_and_the_demo_may_use_loopback() -> None:
    assert targets.url_problem("https://hooks.example.com/xd?x=1", private_allowed=False) is None
    assert targets.url_problem("https://203.0.114.9/x", private_allowed=False) is None
    assert targets.url_problem("http://127.0.0.1:8000/x", private_allowed=True) is None
    assert targets.url_problem("ftp://127.0.0.1/x", private_allowed=True) is not None
    assert targets.url_problem("https://[64:ff9b::808:808]/x", private_allowed=False) is None


def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    problem = asyncio.run(targets.resolved_problem("https://localhost./x", private_allowed=False))
    assert problem is not None
