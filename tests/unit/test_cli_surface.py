"""The ``xingdong`` command itself: help that reads as sentences, options that refuse what
cannot work before any work starts."""

from __future__ import annotations

import re
import socket

import pytest
from typer.testing import CliRunner

from xingdong.cli import app
from xingdong.core.settings import get_settings


def test_a_group_lists_each_command_as_one_wrapped_sentence() -> None:
    answer = CliRunner().invoke(app, ["admin", "--help"], env={"COLUMNS": "200"})
    assert answer.exit_code == 0, answer.output
    # The docstring breaks its lines at 100 characters; the list must not keep those
    # breaks, which cut a sentence in the middle of a wide terminal.
    assert re.search(r"\(PIPL art\. 47\), with the checks people's own erasure has", answer.output)
    assert "``" not in answer.output


def test_lengths_a_command_cannot_use_are_refused_before_any_work() -> None:
    runner = CliRunner()
    # A phase of no time divided by zero after seeding 2,000 campaigns; ten million
    # days back overflowed a date: both stopped with a traceback.
    for args in (
        ["bench", "feed", "--seconds", "0"],
        ["bench", "ledger", "--seconds", "0.05"],
        ["risk", "scan", "--days", "1e9"],
        ["risk", "export", "--out", "never-written.jsonl", "--days", "1e12"],
    ):
        answer = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert answer.exit_code == 2, (args, answer.output)
        assert "Traceback" not in answer.output
        assert "Invalid value for" in answer.output


def test_the_demo_and_the_server_have_one_flag_each_for_what_they_leave_out() -> None:
    for command, flag in (("demo", "--no-browser"), ("serve", "--no-worker")):
        answer = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert flag in answer.output
        assert "--no-" + flag.removeprefix("--") not in answer.output


def test_a_worker_for_a_queue_no_job_goes_to_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Refused before anything connects: the address leads nowhere.
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        answer = CliRunner().invoke(app, ["worker", "--queues", "default,webhook"])
    finally:
        get_settings.cache_clear()
    assert answer.exit_code == 1
    assert answer.output.strip() == (
        "error: unknown queue 'webhook'; the queues are builtin, default, webhooks"
    )


def test_a_taken_port_is_refused_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["demo", "--no-browser"], ["serve"]):
            answer = CliRunner().invoke(app, [*command, "--port", str(port)])
            assert answer.exit_code == 1, answer.output
            # The demo printed its logins and "Open http://…" before the server's error.
            assert answer.output.strip() == (
                f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
                "(is another demo or server running? --port chooses another)"
            )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        (
            {"XINGDONG_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "error: XINGDONG_SECRET_KEY is the development value, which anyone can read in "
            "the source: set a long random one before serving on 192.0.2.1 (docs/deployment.md)",
        ),
        (
            {
                "XINGDONG_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                "XINGDONG_SECRET_KEY": "x" * 31,
            },
            "error: XINGDONG_SECRET_KEY is shorter than 32 characters: set a long random one "
            "before serving on 192.0.2.1 (docs/deployment.md)",
        ),
        (
            {"XINGDONG_DATABASE_URL": "", "XINGDONG_SECRET_KEY": "x" * 32},
            "error: XINGDONG_DATABASE_URL is not set: the embedded database is for the demo "
            "and one machine, not for serving on 192.0.2.1 (docs/deployment.md)",
        ),
    ],
    ids=["development-key", "short-key", "embedded-database"],
)
def test_serving_other_machines_refuses_what_is_fit_for_one(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], said: str
) -> None:
    """Before anything starts (the embedded database among them): a known key lets anyone
    forge the forms' CSRF tokens, and an embedded database on a server host is an empty
    one of its own."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        # An address of no machine (RFC 5737): refused before the port is tried.
        answer = CliRunner().invoke(app, ["serve", "--host", "192.0.2.1"])
    finally:
        get_settings.cache_clear()
    assert answer.exit_code == 1
    assert answer.output.strip() == said


def test_one_machine_is_warned_of_a_development_key_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Behind a proxy on the same host, or a worker (which does not listen): said, and the
    # command goes on to the database, which here leads nowhere.
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("XINGDONG_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        answers = [
            runner.invoke(app, ["serve", "--port", str(free_port())]),
            runner.invoke(app, ["worker"]),
        ]
    finally:
        get_settings.cache_clear()
    for answer in answers:
        assert answer.exit_code == 1
        first, second = answer.output.strip().splitlines()
        assert first == (
            "warning: XINGDONG_SECRET_KEY is the development value, which anyone can read in "
            "the source: set a long random one (docs/deployment.md)"
        )
        assert second.startswith("error: cannot reach the database: ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["admin", "grant"], "error: Missing option '--phone'. (see xingdong admin grant --help)"),
        (["nosuch"], "error: No such command 'nosuch'. (see xingdong --help)"),
        (
            ["risk", "scan", "--days", "1e9"],
            "error: Invalid value for '--days': Input should be less than or equal to 3650 "
            "(see xingdong risk scan --help)",
        ),
    ],
    ids=["missing-option", "no-such-command", "out-of-range"],
)
def test_what_the_parser_refuses_is_one_line_naming_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    """As the command itself runs (``main``), not through the test runner: a usage error
    was the parser's usage text and a box around the message."""
    from xingdong.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("sys.argv", ["xingdong", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == said


def test_a_group_called_alone_shows_its_help_and_no_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from xingdong.cli import main

    monkeypatch.setattr("sys.argv", ["xingdong", "db"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert "upgrade" in captured.out + captured.err
    assert "error:" not in captured.out + captured.err


def test_a_worker_whose_metrics_port_is_taken_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            answer = CliRunner().invoke(app, ["worker", "--metrics-port", str(port)])
    finally:
        get_settings.cache_clear()
    assert answer.exit_code == 1
    assert answer.output.strip() == (
        f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use"
    )


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "XINGDONG_HOLD_HOURS",
            "-5",
            "error: XINGDONG_HOLD_HOURS: Input should be greater than or equal to 0 (set to '-5')",
        ),
        (
            "XINGDONG_LOG_LEVELS",
            "procrastinate",
            "error: XINGDONG_LOG_LEVELS: 'procrastinate' is not name=LEVEL",
        ),
        (
            "XINGDONG_EVIDENCE_STORAGE",
            "s3",
            "error: XINGDONG_EVIDENCE_STORAGE=s3 needs XINGDONG_EVIDENCE_S3_BUCKET",
        ),
        # Declared before the setting whose default is made from others: that one is not
        # blamed as well.
        (
            "XINGDONG_PASSWORD_HASHING",
            "x",
            "error: XINGDONG_PASSWORD_HASHING: Input should be 'standard' or 'cheapest' "
            "(set to 'x')",
        ),
        (
            "XINGDONG_DISPATCH_WEIGHTS",
            "notjson",
            "error: XINGDONG_DISPATCH_WEIGHTS: not valid JSON",
        ),
        (
            "XINGDONG_LOG_LEVELS",
            "a[/b]=x",
            "error: XINGDONG_LOG_LEVELS: 'a[/b]=x': the level is one of DEBUG, INFO, WARNING, "
            "ERROR",
        ),
    ],
    ids=["out-of-range", "own-check", "two-settings", "early", "not-json", "brackets"],
)
def test_a_setting_the_environment_got_wrong_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    said: str,
) -> None:
    """It was a screenful of traceback from inside pydantic."""
    from xingdong.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr("sys.argv", ["xingdong", "worker"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            main()
    finally:
        get_settings.cache_clear()
    assert stopped.value.code == 1
    assert capsys.readouterr().err.strip() == said
