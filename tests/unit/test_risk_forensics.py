"""Evidence forensics: exact reuse, perceptual near-duplicates and the OCR checks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from xingdong.risk.engine import RiskEngine
from xingdong.risk.events import parse_event
from xingdong.risk.ocr import clock_agrees, handle_of, inspect, read_clock
from xingdong.risk.phash_index import PhashIndex, hamming

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in UTC+8


def clock_text(ts: float, handle: str = "dy_brand", word: str = "已关注") -> str:
    local = datetime.fromtimestamp(ts, UTC) + timedelta(hours=8)
    return f"{local:%H:%M} 5G 80%\n{handle}\n1.2万粉丝\n{word} 私信"


def submit(engine: RiskEngine, account: str, ts: float, evidence: dict[str, Any]) -> list[str]:
    task = {"task": f"t-{account}", "target": "@dy_brand", "task_type": "follow"}
    engine.decide(parse_event({"type": "claim", "ts": ts - 60, "account": account, **task}))
    raw = {"type": "submit", "ts": ts, "account": account, "evidence": evidence, **task}
    return engine.decide(parse_event(raw)).reasons


def shot(phash: int, text: str | None, sha: str) -> dict[str, Any]:
    return {
        "sha256": sha,
        "phash": f"{phash:016x}",
        "width": 1080,
        "height": 2400,
        "ocr_text": text,
    }


def test_index_finds_every_hash_within_the_radius_and_nothing_beyond() -> None:
    rng = random.Random(3)
    index = PhashIndex(radius=7)
    hashes = [rng.getrandbits(64) for _ in range(3000)]
    for value in hashes:
        index.add(value)
    query = hashes[17] ^ 0b1011001  # four bits away
    found = index.near(query)
    expected = sorted(
        (hamming(query, h), i) for i, h in enumerate(hashes) if hamming(query, h) <= 7
    )
    assert found == expected
    assert (4, 17) in found


def test_index_finds_matches_spread_over_all_bands() -> None:
    index = PhashIndex(radius=7)
    base = 0x0123456789ABCDEF
    index.add(base)
    # seven bits flipped, at least one in every 16-bit band
    spread = base ^ (1 | 1 << 17 | 1 << 20 | 1 << 33 | 1 << 40 | 1 << 50 | 1 << 60)
    assert index.near(spread) == [(7, 0)]
    assert index.near(base ^ 0xFF) == []  # eight bits away


def test_ocr_reads_clock_handle_and_done_state() -> None:
    text = clock_text(T0)
    assert read_clock(text) == 10 * 60
    assert handle_of("@dy_brand") == "dy_brand"
    findings = inspect(
        text,
        target="@dy_brand",
        task_type="follow",
        submitted_at=T0 + 60,
        utc_offset_hours=8,
        before_minutes=30,
        after_minutes=3,
    )
    assert findings.is_consistent
    assert not inspect(
        text,
        target="@other",
        task_type="like",
        submitted_at=T0,
        utc_offset_hours=8,
        before_minutes=30,
        after_minutes=3,
    ).is_consistent


def test_clock_check_wraps_around_midnight() -> None:
    midnight = datetime(2026, 11, 20, 16, 1, tzinfo=UTC).timestamp()  # 00:01 in UTC+8
    assert clock_agrees(
        23 * 60 + 55, midnight, utc_offset_hours=8, before_minutes=30, after_minutes=3
    )
    assert not clock_agrees(
        20 * 60, midnight, utc_offset_hours=8, before_minutes=30, after_minutes=3
    )


def test_exact_copy_from_another_account_is_blocked() -> None:
    engine = RiskEngine()
    evidence = shot(0xABCDEF, clock_text(T0), "a" * 64)
    submit(engine, "honest", T0, evidence)
    reasons = submit(engine, "copier", T0 + 3600, evidence)
    assert "evidence_exact_reuse" in reasons


def test_honest_screenshots_of_a_popular_page_are_not_copies() -> None:
    engine = RiskEngine()
    page = 0x5A5A_1234_F0F0_9999
    rng = random.Random(5)
    for n in range(40):
        phone = page
        for bit in rng.sample(range(64), 3):  # each phone's screenshot differs a little
            phone ^= 1 << bit
        at = T0 + n * 600
        reasons = submit(engine, f"fan{n}", at, shot(phone, clock_text(at - 30), f"{n:064x}"))
        assert "evidence_near_duplicate" not in reasons
        assert "evidence_exact_reuse" not in reasons


def test_reencoded_copy_with_the_old_clock_is_a_near_duplicate() -> None:
    engine = RiskEngine()
    original = 0x5A5A_1234_F0F0_9999
    submit(engine, "taker", T0, shot(original, clock_text(T0 - 20), "1" * 64))
    later = T0 + 5 * 3600
    reasons = submit(engine, "copier", later, shot(original ^ 0b11, clock_text(T0 - 20), "2" * 64))
    assert "evidence_near_duplicate" in reasons
    assert "ocr_clock_mismatch" in reasons


def test_close_copy_without_readable_text_is_a_near_duplicate() -> None:
    engine = RiskEngine()
    original = 0x0F0F_1234_F0F0_9999
    submit(engine, "taker", T0, shot(original, clock_text(T0 - 20), "1" * 64))
    reasons = submit(engine, "copier", T0 + 3600, shot(original ^ 1, None, "3" * 64))
    assert "evidence_near_duplicate" in reasons
    assert "signal_missing:evidence.ocr_text" in reasons


def test_own_screenshot_for_another_task_is_a_resubmission() -> None:
    engine = RiskEngine()
    evidence = shot(0x1234, clock_text(T0), "4" * 64)
    task1 = {"task": "t1", "target": "@dy_brand", "task_type": "follow"}
    task2 = {"task": "t2", "target": "@dy_brand", "task_type": "follow"}
    for task, at in ((task1, T0), (task2, T0 + 120)):
        engine.decide(parse_event({"type": "claim", "ts": at - 60, "account": "a", **task}))
        reasons = engine.decide(
            parse_event({"type": "submit", "ts": at, "account": "a", "evidence": evidence, **task})
        ).reasons
    assert "evidence_resubmitted" in reasons
    assert "evidence_exact_reuse" not in reasons


def test_screenshot_of_another_target_or_undone_state() -> None:
    engine = RiskEngine()
    text = clock_text(T0 - 30, handle="dy_other", word="关注")
    reasons = submit(engine, "a", T0, shot(0x77, text, "5" * 64))
    assert "ocr_target_missing" in reasons
    assert "ocr_done_state_missing" in reasons
