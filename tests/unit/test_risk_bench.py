"""A quick run of the risk benchmark produces every figure (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xingdong.bench.risk.presets import PRESETS
from xingdong.bench.risk.run import run
from xingdong.bench.risk.world import FAMILIES, generate
from xingdong.cli import app
from xingdong.risk.model import RiskModel


def test_world_is_seeded_sorted_and_labelled() -> None:
    first = generate(PRESETS["tiny"], seed=4)
    again = generate(PRESETS["tiny"], seed=4)
    other = generate(PRESETS["tiny"], seed=5)
    assert first.events == again.events
    assert first.events != other.events
    times = [event["ts"] for event in first.events]
    assert times == sorted(times)
    assert set(first.fraud_lines.values()) == set(FAMILIES)
    assert None in first.account_labels.values()


def test_quick_run_produces_all_figures() -> None:
    figures = run(PRESETS["tiny"], 3, with_model=True, with_scale=False).as_dict()
    for name in ("engine", "baseline", "model"):
        scored = figures[name]
        for key in (
            "interception",
            "honest_block_rate",
            "honest_review_rate",
            "account_precision",
            "account_recall",
        ):
            assert 0.0 <= scored[key] <= 1.0
        assert set(scored["recall_by_family"]) == set(FAMILIES)
    assert figures["engine_events_per_second"] > 0
    assert figures["speed_ratio_to_parse"] > 0
    # the engine does what the plain thresholds cannot: leave honest people alone
    assert figures["engine"]["honest_review_rate"] < figures["baseline"]["honest_review_rate"]


def test_bench_command_json_and_kept_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "risk",
            "--preset",
            "tiny",
            "--json",
            "--no-model",
            "--no-scale",
            "--out-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["preset"] == "tiny"
    assert (tmp_path / "events.jsonl").exists()
    assert (tmp_path / "labels.jsonl").exists()


def test_bench_command_rejects_unknown_preset() -> None:
    result = CliRunner().invoke(app, ["bench", "risk", "--preset", "impossible"])
    assert result.exit_code == 1
    assert "unknown preset" in result.output


def test_train_command_writes_a_loadable_model(tmp_path: Path) -> None:
    world = generate(PRESETS["tiny"], seed=8)
    world.write(tmp_path / "e.jsonl", tmp_path / "l.jsonl")
    result = CliRunner().invoke(
        app,
        [
            "risk",
            "train",
            str(tmp_path / "e.jsonl"),
            str(tmp_path / "l.jsonl"),
            "--out",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    model = RiskModel.from_file(tmp_path / "m.json")
    assert len(model.coef) == len(model.names)
