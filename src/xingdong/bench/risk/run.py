"""One run of the risk benchmark: generate, replay through the engine and the baseline,
optionally train the model on a second world and replay with it, score everything."""

from __future__ import annotations

import io
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xingdong.bench.risk.baseline import baseline_decisions
from xingdong.bench.risk.presets import Preset
from xingdong.bench.risk.scale import ScaleFigures, run_scale
from xingdong.bench.risk.scorer import Score, Truth, score
from xingdong.bench.risk.world import generate
from xingdong.risk.replay import replay
from xingdong.risk.training import train_from_files


@dataclass
class RiskFigures:
    preset: str
    seed: int
    events: int
    engine: Score
    baseline: Score
    model: Score | None
    engine_events_per_second: float
    parse_events_per_second: float
    batch_seconds: float
    scale: ScaleFigures | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def speed_ratio(self) -> float:
        return self.engine_events_per_second / self.parse_events_per_second

    def as_dict(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "preset": self.preset,
            "seed": self.seed,
            "events": self.events,
            "engine": self.engine.as_dict(),
            "baseline": self.baseline.as_dict(),
            "model": self.model.as_dict() if self.model else None,
            "engine_events_per_second": round(self.engine_events_per_second, 1),
            "parse_events_per_second": round(self.parse_events_per_second, 1),
            "speed_ratio_to_parse": round(self.speed_ratio, 4),
            "batch_seconds": round(self.batch_seconds, 3),
        }
        if self.scale is not None:
            figures["scale"] = {
                "edges": self.scale.edges,
                "lockstep_seconds": round(self.scale.lockstep_seconds, 3),
                "dense_seconds": round(self.scale.dense_seconds, 3),
                "rings_seconds": round(self.scale.rings_seconds, 3),
                "planted_lockstep_found": self.scale.planted_lockstep_found,
                "planted_block_found": self.scale.planted_block_found,
                "false_groups": self.scale.false_groups,
            }
        return figures


def _rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def run(
    preset: Preset,
    seed: int,
    *,
    with_model: bool = True,
    with_scale: bool = True,
    keep_in: Path | None = None,
) -> RiskFigures:
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep_in or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        events_path, labels_path = folder / "events.jsonl", folder / "labels.jsonl"
        generate(preset, seed).write(events_path, labels_path)
        truth = Truth.read(labels_path)
        lines = events_path.read_text(encoding="utf-8").splitlines(keepends=True)

        started = time.perf_counter()
        for line in lines:
            json.loads(line)
        parse_rate = len(lines) / (time.perf_counter() - started)

        out = io.StringIO()
        summary = replay(lines, out)
        engine = score(_rows(out.getvalue()), truth)
        baseline = score(baseline_decisions(lines), truth)

        model_score = None
        if with_model:
            # trained on another world of the same kind, as operators' past verdicts
            train_events, train_labels = (
                folder / "train-events.jsonl",
                folder / "train-labels.jsonl",
            )
            generate(preset, seed + 1_000_003).write(train_events, train_labels)
            model, _ = train_from_files(train_events, train_labels)
            out = io.StringIO()
            replay(lines, out, model=model)
            model_score = score(_rows(out.getvalue()), truth)
    return RiskFigures(
        preset=preset.name,
        seed=seed,
        events=summary.events,
        engine=engine,
        baseline=baseline,
        model=model_score,
        engine_events_per_second=summary.events_per_second,
        parse_events_per_second=parse_rate,
        batch_seconds=summary.batch_seconds,
        scale=run_scale() if with_scale else None,
    )
