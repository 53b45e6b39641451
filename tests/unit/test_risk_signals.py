"""Real-time signals of the risk engine on small crafted streams."""

from __future__ import annotations

from typing import Any

import pytest

from xingdong.risk.engine import Decision, RiskEngine
from xingdong.risk.events import parse_event
from xingdong.risk.settings import RiskSettings
from xingdong.risk.trajectory import trajectory_features

T0 = 1_793_500_000.0


def event(kind: str, account: str, ts: float, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": kind,
        "ts": ts,
        "account": account,
        "ip": f"36.1.{sum(map(ord, account)) % 250}.9",
        "device": f"dev-{account}",
        "ua": "app/1",
    }
    base.update(fields)
    return base


def decide(engine: RiskEngine, raw: dict[str, Any]) -> Decision:
    return engine.decide(parse_event(raw))


def human_gesture() -> list[list[float]]:
    return [[0, 100, 100], [17, 130, 140], [40, 170, 170], [52, 220, 185], [80, 260, 190]]


def robot_gesture() -> list[list[float]]:
    return [[i * 10.0, 100 + i * 20.0, 100 + i * 10.0] for i in range(10)]


def test_many_accounts_on_one_device_is_a_farm() -> None:
    engine = RiskEngine()
    reasons = [
        decide(engine, event("login", f"a{n}", T0 + n, device="shared")).reasons for n in range(5)
    ]
    assert "device_shared" not in reasons[0]
    assert "device_shared" in reasons[1]
    assert "device_farm" in reasons[4]


def test_campus_nat_sharing_alone_does_not_block_or_review() -> None:
    engine = RiskEngine()
    for n in range(60):
        decision = decide(
            engine, event("login", f"s{n}", T0 + n * 30, ip="202.1.1.1", device=f"phone{n}")
        )
    assert decision.decision == "allow"
    assert "ip_crowded" not in decision.reasons


def test_many_accounts_on_few_devices_behind_one_ip_is_crowded() -> None:
    engine = RiskEngine()
    for n in range(10):
        decision = decide(
            engine, event("login", f"f{n}", T0 + n, ip="9.9.9.9", device=f"wall{n % 3}")
        )
    assert "ip_crowded" in decision.reasons


def test_registration_burst_on_one_client_build() -> None:
    engine = RiskEngine()
    reasons: list[str] = []
    for n in range(10):
        raw = event(
            "register",
            f"r{n}",
            T0 + n * 20,
            ua="bot/1",
            ip=f"8.{n}.1.1",
            phone_hash=f"h{n}",
            phone_prefix="170",
        )
        reasons = decide(engine, raw).reasons
    assert "registration_burst" in reasons
    assert "phone_virtual_operator" in reasons


def test_registrations_spread_over_the_day_are_no_burst() -> None:
    engine = RiskEngine()
    for n in range(10):
        raw = event(
            "register",
            f"r{n}",
            T0 + n * 3600,
            phone_hash=f"h{n}",
            phone_prefix="138",
            platform_handle="me",
            platform_followers=100,
            platform_account_age_days=400,
        )
        decision = decide(engine, raw)
        assert decision.reasons == []
        assert decision.decision == "allow"


def test_sequential_numeric_phone_tokens() -> None:
    engine = RiskEngine()
    decide(engine, event("register", "p1", T0, phone_hash="17012345670", phone_prefix="170"))
    second = decide(
        engine, event("register", "p2", T0 + 60, phone_hash="17012345671", phone_prefix="170")
    )
    far = decide(
        engine, event("register", "p3", T0 + 90, phone_hash="13899999999", phone_prefix="138")
    )
    assert "phone_sequence" in second.reasons
    assert "phone_sequence" not in far.reasons


def test_claim_to_submit_faster_than_a_person() -> None:
    engine = RiskEngine()
    task = {"task": "t1", "target": "@brand", "task_type": "follow"}
    decide(engine, event("claim", "a", T0, **task))
    fast = decide(engine, event("submit", "a", T0 + 3, trajectory=human_gesture(), **task))
    decide(engine, event("claim", "b", T0, **task))
    slow = decide(engine, event("submit", "b", T0 + 90, trajectory=human_gesture(), **task))
    assert "submit_too_fast" in fast.reasons
    assert "submit_too_fast" not in slow.reasons


def test_submission_without_a_claim() -> None:
    engine = RiskEngine()
    decision = decide(engine, event("submit", "a", T0, task="t9", target="@x", task_type="like"))
    assert "submit_without_claim" in decision.reasons


def test_trajectory_features_tell_a_script_from_a_hand() -> None:
    robot = trajectory_features([(t, x, y) for t, x, y in robot_gesture()])
    hand = trajectory_features([(t, x, y) for t, x, y in human_gesture()])
    assert robot is not None
    assert hand is not None
    assert robot.straightness == pytest.approx(1.0)
    assert robot.interval_cv == pytest.approx(0.0)
    assert hand.straightness < 0.99
    assert hand.interval_cv > 0.2


def test_scripted_gesture_gives_both_trajectory_reasons() -> None:
    engine = RiskEngine()
    task = {"task": "t1", "target": "@brand", "task_type": "follow"}
    decide(engine, event("claim", "a", T0, **task))
    decision = decide(engine, event("submit", "a", T0 + 60, trajectory=robot_gesture(), **task))
    assert {"trajectory_straight", "trajectory_regular"} <= set(decision.reasons)


def test_velocity_of_submissions() -> None:
    engine = RiskEngine(RiskSettings(submits_per_hour=5))
    reasons: list[str] = []
    for n in range(7):
        task = {"task": f"t{n}", "target": f"@b{n}", "task_type": "like"}
        decide(engine, event("claim", "a", T0 + n * 60, **task))
        reasons = decide(engine, event("submit", "a", T0 + n * 60 + 30, **task)).reasons
    assert "velocity_submits" in reasons


def test_shared_payout_account() -> None:
    engine = RiskEngine()
    first = decide(engine, event("withdraw", "a", T0, amount_fen=100, payout_account="w1"))
    second = decide(engine, event("withdraw", "b", T0 + 5, amount_fen=100, payout_account="w1"))
    assert "payout_shared" not in first.reasons
    assert "payout_shared" in second.reasons


def test_connector_saying_not_done() -> None:
    engine = RiskEngine()
    task = {"task": "t1", "target": "@b", "task_type": "like"}
    decide(engine, event("claim", "a", T0, **task))
    decision = decide(engine, event("submit", "a", T0 + 60, verified=False, **task))
    assert "platform_not_verified" in decision.reasons


def test_established_account_on_a_new_device() -> None:
    engine = RiskEngine()
    decide(engine, event("login", "old", T0, device="own"))
    same = decide(engine, event("login", "old", T0 + 10 * 86400, device="own"))
    moved = decide(engine, event("login", "old", T0 + 10 * 86400 + 5, device="buyer"))
    assert "new_device_for_account" not in same.reasons
    assert "new_device_for_account" in moved.reasons


def test_missing_fields_are_named_and_do_not_stop_the_decision() -> None:
    engine = RiskEngine()
    decision = decide(engine, {"type": "submit", "ts": T0, "account": "a"})
    assert decision.decision in ("allow", "review", "block")
    assert "signal_missing:ip" in decision.reasons
    assert "signal_missing:evidence" in decision.reasons
    assert "signal_missing:task" in decision.reasons
    assert 0.0 <= decision.score <= 1.0


def test_score_is_within_bounds_and_blocks_above_threshold() -> None:
    engine = RiskEngine()
    task = {"task": "t1", "target": "@b", "task_type": "like"}
    decide(engine, event("claim", "a", T0, device="d", **task))
    decision = decide(
        engine,
        event(
            "submit", "a", T0 + 2, device="d", trajectory=robot_gesture(), verified=False, **task
        ),
    )
    assert decision.decision == "block"
    assert 0.9 <= decision.score <= 1.0
