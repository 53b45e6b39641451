"""Turn operators' verdicts into training rows: replay the events with the rules and label
each decision by the verdict on its line or, failing that, on its account."""

from __future__ import annotations

import json
from pathlib import Path

from xingdong.risk.engine import RiskEngine
from xingdong.risk.events import DECIDED_TYPES, MalformedEvent, parse_event
from xingdong.risk.model import RiskModel, train, vectorise
from xingdong.risk.settings import RiskSettings


class TrainingError(ValueError):
    """The labels cannot train a model; the message says why."""


def read_labels(path: Path) -> tuple[dict[str, bool], dict[int, bool]]:
    """(account → fraud?, line → fraud?) from JSON lines with ``label`` fraud or honest."""
    accounts: dict[str, bool] = {}
    lines: dict[int, bool] = {}
    with path.open(encoding="utf-8") as source:
        for number, text in enumerate(source, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                fraud = {"fraud": True, "honest": False}[row["label"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise TrainingError(f"{path}:{number}: not a label line") from exc
            if "line" in row:
                lines[int(row["line"])] = fraud
            elif "account" in row:
                accounts[str(row["account"])] = fraud
    return accounts, lines


def training_rows(
    events: Path, accounts: dict[str, bool], lines: dict[int, bool], settings: RiskSettings
) -> tuple[list[list[float]], list[int]]:
    engine = RiskEngine(settings)
    rows: list[list[float]] = []
    labels: list[int] = []
    with events.open(encoding="utf-8", errors="replace") as source:
        for number, text in enumerate(source):
            try:
                event = parse_event(json.loads(text))
            except (ValueError, MalformedEvent):
                continue
            decision = engine.decide(event)
            if event.type not in DECIDED_TYPES:
                continue
            verdict = lines.get(number)
            if verdict is None:
                verdict = accounts.get(event.account)
            if verdict is None:
                continue
            rows.append(vectorise(event.type, decision.reasons, decision.features))
            labels.append(int(verdict))
    return rows, labels


def train_from_files(
    events: Path, labels: Path, settings: RiskSettings | None = None
) -> tuple[RiskModel, int]:
    accounts, lines = read_labels(labels)
    rows, verdicts = training_rows(events, accounts, lines, settings or RiskSettings())
    if len(set(verdicts)) < 2:
        raise TrainingError("the labels need both verdicts, fraud and honest, on decided events")
    return train(rows, verdicts), len(rows)
