"""The replay contract: no peeking, determinism, bad lines, the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xingdong.bench.risk.presets import PRESETS
from xingdong.bench.risk.world import generate
from xingdong.cli import app
from xingdong.risk.replay import replay


@pytest.fixture(scope="module")
def stream() -> list[str]:
    world = generate(PRESETS["tiny"], seed=11)
    return [json.dumps(event, ensure_ascii=False) + "\n" for event in world.events]


def run(lines: list[str]) -> tuple[list[dict[str, object]], list[tuple[int, str]]]:
    out = io.StringIO()
    problems: list[tuple[int, str]] = []
    replay(lines, out, on_problem=lambda n, m: problems.append((n, m)))
    return [json.loads(line) for line in out.getvalue().splitlines()], problems


def event_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [row for row in rows if row["type"] != "account"]


def test_every_decided_event_gets_one_line_in_order(stream: list[str]) -> None:
    rows, problems = run(stream)
    decided = [n for n, line in enumerate(stream) if json.loads(line)["type"] != "login"]
    assert [row["line"] for row in event_rows(rows)] == decided
    assert problems == []
    for row in rows:
        assert row["decision"] in ("allow", "review", "block")
        assert 0.0 <= float(row["score"]) <= 1.0  # type: ignore[arg-type]
    assert any(row["type"] == "account" for row in rows)


def test_no_peeking_prefixes_give_the_same_decisions(stream: list[str]) -> None:
    full = event_rows(run(stream)[0])
    for cut in (len(stream) // 7, len(stream) // 2, len(stream) - 3):
        prefix = event_rows(run(stream[:cut])[0])
        assert prefix == [row for row in full if int(row["line"]) < cut]  # type: ignore[call-overload]


def test_same_input_same_output(stream: list[str]) -> None:
    assert run(stream)[0] == run(stream)[0]


def test_malformed_lines_are_reported_and_skipped(stream: list[str]) -> None:
    lines = [
        *stream[:5],
        "{not json\n",
        '["a list"]\n',
        '{"type": "claim", "ts": 1}\n',
        *stream[5:20],
    ]
    rows, problems = run(lines)
    assert [n for n, _ in problems] == [5, 6, 7]
    assert problems[0][1] == "not valid JSON"
    assert problems[2][1] == "no account"
    clean = event_rows(run(stream[:20])[0])
    shifted = [
        {**row, "line": int(row["line"]) + (3 if int(row["line"]) >= 5 else 0)}  # type: ignore[call-overload]
        for row in clean
    ]
    assert event_rows(rows) == shifted


def test_unknown_types_are_ignored_and_missing_fields_named() -> None:
    lines = [
        '{"type": "teleport", "ts": 1, "account": "a"}\n',
        '{"type": "withdraw", "ts": 2, "account": "a"}\n',
    ]
    rows, problems = run(lines)
    assert problems == [(0, "unknown event type 'teleport', ignored")]
    assert len(rows) == 1
    assert rows[0]["line"] == 1
    assert "signal_missing:payout_account" in rows[0]["reasons"]  # type: ignore[operator]
    assert "signal_missing:ip" in rows[0]["reasons"]  # type: ignore[operator]


def test_command_writes_decisions_and_a_summary(tmp_path: Path, stream: list[str]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(stream[:200]) + "oops\n", encoding="utf-8")
    out = tmp_path / "decisions.jsonl"
    result = CliRunner().invoke(app, ["risk", "replay", str(events), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "line 200: not valid JSON" in result.output
    assert "events/s" in result.output
    assert out.read_text(encoding="utf-8").count("\n") >= 150


def test_command_fails_cleanly_on_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["risk", "replay", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "cannot open" in result.output
    assert "Traceback" not in result.output


def test_command_rejects_bad_settings(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("", encoding="utf-8")
    settings = tmp_path / "s.json"
    settings.write_text('{"review_threshold": 7}', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["risk", "replay", str(events), "--out", str(tmp_path / "o"), "--settings", str(settings)],
    )
    assert result.exit_code == 1
    assert "review_threshold" in result.output
    assert result.output.strip() == (
        f"error: {settings}: review_threshold: Input should be less than or equal to 1"
    )
    settings.write_text("[1]", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["risk", "replay", str(events), "--out", str(tmp_path / "o"), "--settings", str(settings)],
    )
    assert result.output.strip() == f"error: {settings}: Input should be an object"


def test_settings_change_the_decisions(tmp_path: Path, stream: list[str]) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(stream), encoding="utf-8")
    strict = tmp_path / "s.json"
    strict.write_text('{"review_threshold": 0.05, "block_threshold": 0.2}', encoding="utf-8")
    runner = CliRunner()
    runner.invoke(app, ["risk", "replay", str(events), "--out", str(tmp_path / "a")])
    runner.invoke(
        app,
        ["risk", "replay", str(events), "--out", str(tmp_path / "b"), "--settings", str(strict)],
    )

    def blocks(name: str) -> int:
        return (tmp_path / name).read_text(encoding="utf-8").count('"block"')

    assert blocks("b") > blocks("a")


def test_command_rejects_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("", encoding="utf-8")
    model = tmp_path / "m.json"
    model.write_text('{"names": []}', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["risk", "replay", str(events), "--out", str(tmp_path / "o"), "--model", str(model)],
    )
    assert result.exit_code == 1
    assert "not a risk model" in result.output


def test_train_refuses_labels_of_one_kind(tmp_path: Path, stream: list[str]) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(stream[:300]), encoding="utf-8")
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"account": "a1", "label": "honest"}\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["risk", "train", str(events), str(labels), "--out", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 1
    assert "both verdicts" in result.output
    assert not (tmp_path / "m.json").exists()


def test_bytes_that_are_not_utf8_are_a_malformed_line() -> None:
    lines = [
        b'{"type": "login", "ts": 1, "account": "a"}\n',
        b"\xff\xfe\n",
        b'{"type": "claim", "ts": 2, "account": "a", "task": "t"}\n',
    ]
    out = io.StringIO()
    problems: list[tuple[int, str]] = []
    replay(lines, out, on_problem=lambda n, m: problems.append((n, m)))
    assert problems == [(1, "not valid JSON")]
    assert [json.loads(line)["line"] for line in out.getvalue().splitlines()] == [2]
