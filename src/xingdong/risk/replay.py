"""``xingdong risk replay``: a recorded event stream through the real-time engine, then the
batch detectors once, with the decisions written as JSON lines (docs/risk.md)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from xingdong.risk.batch.judge import BatchReport, run_batch
from xingdong.risk.engine import RiskEngine, memory_store
from xingdong.risk.events import DECIDED_TYPES, EVENT_TYPES, MalformedEvent, parse_event
from xingdong.risk.model import RiskModel
from xingdong.risk.settings import RiskSettings


@dataclass
class ReplaySummary:
    events: int = 0
    malformed: int = 0
    unknown_types: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    account_decisions: Counter[str] = field(default_factory=Counter)
    stream_seconds: float = 0.0
    batch_seconds: float = 0.0
    batch: BatchReport | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.stream_seconds if self.stream_seconds > 0 else 0.0


Problem = Callable[[int, str], None]


def _ignore(_line: int, _message: str) -> None:
    return None


def replay(
    lines: Iterable[str | bytes],
    out: TextIO,
    *,
    settings: RiskSettings | None = None,
    model: RiskModel | None = None,
    on_problem: Problem = _ignore,
    on_line: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Decide every event of ``lines`` (0-based line numbers), then judge accounts in batch.

    ``lines`` may be text or raw bytes (a file opened in binary: JSON is decoded as UTF-8
    and a line that is not valid UTF-8 is reported like any other malformed line).
    ``on_problem`` hears of every skipped line; ``on_line`` is told the length of each line
    read, for a progress bar.
    """
    settings = settings or RiskSettings()
    store = memory_store(settings)
    engine = RiskEngine(settings, store, model)
    summary = ReplaySummary()
    decisions = summary.decisions
    write = out.write
    dumps = json.dumps
    started = time.perf_counter()
    for number, text in enumerate(lines):
        if on_line is not None:
            on_line(len(text))
        if not text.strip():
            continue
        try:
            event = parse_event(json.loads(text))
        except (ValueError, RecursionError) as exc:
            # json.JSONDecodeError and MalformedEvent are both ValueErrors
            message = str(exc) if isinstance(exc, MalformedEvent) else "not valid JSON"
            on_problem(number, message)
            summary.malformed += 1
            continue
        if event.type not in EVENT_TYPES:
            on_problem(number, f"unknown event type {event.type!r}, ignored")
            summary.unknown_types += 1
            continue
        summary.events += 1
        decision = engine.decide(event)
        if event.type not in DECIDED_TYPES:
            continue
        decisions[decision.decision] += 1
        record: dict[str, object] = {"line": number, "type": event.type, "account": event.account}
        if event.type in ("claim", "submit"):
            record["task"] = event.task
        record["decision"] = decision.decision
        record["score"] = decision.score
        record["reasons"] = decision.reasons
        write(dumps(record, ensure_ascii=False))
        write("\n")
    summary.stream_seconds = time.perf_counter() - started

    started = time.perf_counter()
    blocked = {name: state.blocked for name, state in store.known_accounts().items()}
    report = run_batch(store.actions, store.links, blocked, settings.batch)
    for verdict in report.verdicts:
        summary.account_decisions[verdict.decision] += 1
        write(
            dumps(
                {
                    "type": "account",
                    "account": verdict.account,
                    "decision": verdict.decision,
                    "score": verdict.score,
                    "reasons": verdict.reasons,
                },
                ensure_ascii=False,
            )
        )
        write("\n")
    summary.batch_seconds = time.perf_counter() - started
    summary.batch = report
    return summary
