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


def test_some_loggers_have_levels_of_their_own(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", as_json=True, loggers="procrastinate=WARNING, chatty=error")
    try:
        logging.getLogger("procrastinate.worker").info("Job started")
        logging.getLogger("procrastinate.worker").warning("Job stalled")
        logging.getLogger("chatty.part").warning("not this")
        get_logger("xingdong.test").info("kept")
    finally:
        logging.getLogger().handlers.clear()
        for name in ("procrastinate", "chatty"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()]
    assert events == ["Job stalled", "kept"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("procrastinate", "'procrastinate' is not name=LEVEL"),
        ("=INFO", "'=INFO' is not name=LEVEL"),
        ("procrastinate=LOUD", "'procrastinate=LOUD': the level is one of DEBUG, INFO"),
    ],
)
def test_a_mistake_in_the_loggers_levels_stops_start_up(text: str, problem: str) -> None:
    from pydantic import ValidationError

    from xingdong.core.settings import Settings

    with pytest.raises(ValidationError) as raised:
        Settings(log_levels=text)
    assert "XINGDONG_LOG_LEVELS: " + problem in str(raised.value)
    with pytest.raises(ValidationError, match="XINGDONG_LOG_LEVEL is one of"):
        Settings(log_level="verbose")
    assert Settings(log_level=" debug ").log_level == "DEBUG"
    assert Settings(log_levels=" ,procrastinate=info,").log_levels == " ,procrastinate=info,"
