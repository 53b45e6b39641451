"""Client signals: device ids, device summaries and pointer paths are taken when well
formed and dropped, never refused, when not."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from xingdong.core.client_signals import (
    MAX_SAMPLES,
    parse_device_id,
    parse_device_summary,
    parse_trajectory,
    signals_of,
)


def request_with(headers: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("198.51.100.4", 5000),
    }
    return Request(scope)


def test_a_good_path_is_kept() -> None:
    path = [[0, 10, 10], [16, 14, 13], [40, 30, 22], [40, 31, 22]]
    assert parse_trajectory(json.dumps(path)) == [
        (0, 10, 10),
        (16, 14, 13),
        (40, 30, 22),
        (40, 31, 22),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "{}",
        "[]",
        json.dumps([[0, 1]]),
        json.dumps([[0, 1, 2.5]]),
        json.dumps([[0, 1, True]]),
        json.dumps([[10, 1, 1], [5, 2, 2]]),  # time going back
        json.dumps([[0, 1, 10**9]]),
        json.dumps([[n, n, n] for n in range(MAX_SAMPLES + 1)]),
        "[" * 20_000,
    ],
    ids=[
        "none", "empty", "garbage", "object", "no-samples", "pairs", "float", "bool",
        "backwards", "off-screen", "too-many", "too-long",
    ],
)  # fmt: skip
def test_a_bad_path_is_dropped(raw: str | None) -> None:
    assert parse_trajectory(raw) is None


def test_device_ids_and_summaries_are_checked() -> None:
    assert parse_device_id("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"
    assert parse_device_id("short") is None
    assert parse_device_id("<script>alert(1)</script>") is None
    assert parse_device_summary("00ff12ab") == "00ff12ab"
    assert parse_device_summary("00FF12AB1") is None


def test_forms_win_over_headers_and_the_summary_stands_in_for_a_missing_id() -> None:
    request = request_with({"User-Agent": "Mozilla/5.0", "X-Device-Id": "api-device-0001"})
    from_api = signals_of(request)
    assert (from_api.ip, from_api.user_agent, from_api.device) == (
        "198.51.100.4", "Mozilla/5.0", "api-device-0001",
    )  # fmt: skip
    from_page = signals_of(request, {"device_id": "page-device-0002", "trajectory": "[[0,1,1]]"})
    assert from_page.device == "page-device-0002"
    assert from_page.trajectory == [(0, 1, 1)]
    only_summary = signals_of(request_with({}), {"device_summary": "0a0b0c0d"})
    assert only_summary.device == "summary:0a0b0c0d"
    assert only_summary.as_json()["trajectory"] is None
