"""Logs are one JSON object a line, carrying the request id bound while serving."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from xingdong.core.logging import configure_logging, get_logger


def test_json_lines_carry_the_bound_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", as_json=True)
    try:
        structlog.contextvars.bind_contextvars(request_id="req-42")
        get_logger("xingdong.test").info("organisation_created", name="星动")
        logging.getLogger("some.library").warning("plain %s", "message")
    finally:
        structlog.contextvars.clear_contextvars()
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "organisation_created"
    assert lines[0]["name"] == "星动"
    assert lines[0]["request_id"] == "req-42"
    assert lines[0]["level"] == "info"
    assert lines[0]["timestamp"].endswith("Z")
    assert lines[1]["event"] == "plain message"
    assert lines[1]["level"] == "warning"
