"""The real-time engine: signals for one event, rules over them, a decision with reasons.

It is the same object in the server and in ``xingdong risk replay``; only its store
differs. Each event is decided from the store as it stands, then recorded, so a decision
never depends on anything later in the stream.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from xingdong.risk import ocr
from xingdong.risk.events import Event
from xingdong.risk.model import RiskModel
from xingdong.risk.reasons import BEHAVIOURAL, HARD_BLOCK
from xingdong.risk.settings import RiskSettings
from xingdong.risk.store import (
    AccountState,
    Action,
    EvidenceRecord,
    MemoryRiskStore,
    RiskStore,
)
from xingdong.risk.trajectory import trajectory_features

HOUR = 3600.0
DAY = 86400.0


@dataclass(slots=True)
class Decision:
    decision: str
    score: float
    reasons: list[str]
    features: dict[str, float] = field(default_factory=dict)
    """The signal vector the score came from (what the model learns from)."""


def window_seconds(settings: RiskSettings) -> dict[str, float]:
    """Window of each kind of sliding count the engine keeps."""
    return {
        "device": settings.device_window_hours * HOUR,
        "ip": settings.ip_window_hours * HOUR,
        "ip_devices": settings.ip_window_hours * HOUR,
        "cotarget": settings.cotarget_window_minutes * 60,
        "reg_ip": HOUR,
        "reg_subnet": HOUR,
        "reg_cohort_short": settings.burst_window_minutes * 60,
        "reg_cohort_day": DAY,
        "claims": HOUR,
        "submits": HOUR,
        "flagged_ip": settings.ip_reputation_hours * HOUR,
    }


def memory_store(settings: RiskSettings) -> MemoryRiskStore:
    return MemoryRiskStore(window_seconds(settings), phash_radius=settings.phash_radius)


def subnet_of(ip: str) -> str:
    """The /24 of an IPv4 address or the /64 of an IPv6 one: a carrier's or a campus's
    addresses share it. Unparseable addresses stand for themselves."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class RiskEngine:
    def __init__(
        self,
        settings: RiskSettings | None = None,
        store: RiskStore | None = None,
        model: RiskModel | None = None,
    ) -> None:
        self.settings = settings or RiskSettings()
        self.store: RiskStore = store if store is not None else memory_store(self.settings)
        self.model = model
        self._last_ts = float("-inf")
        self._subnets: dict[str, str] = {}

    def _subnet(self, ip: str) -> str:
        subnet = self._subnets.get(ip)
        if subnet is None:
            subnet = self._subnets[ip] = subnet_of(ip)
        return subnet

    def _signals(self, event: Event, state: AccountState, now: float) -> Decision:
        store = self.store
        reasons: list[str] = [f"signal_missing:{name}" for name in event.missing]
        features: dict[str, float] = {}
        subnet = self._subnet(event.ip) if event.ip else None

        self._place(event, state, now, reasons, features)
        if state.blocked or state.flagged >= self.settings.account_flags_remembered:
            reasons.append("account_previously_flagged")
        if state.registration_flags and event.type != "register":
            reasons.append("account_registration_flagged")

        if event.type == "register":
            self._registration(event, now, subnet, reasons, features)
        elif event.type == "claim":
            self._claim(event, now, state.claims, reasons, features)
        elif event.type == "submit":
            self._submission(event, now, subnet, state.claims, reasons, features)
        elif event.type == "withdraw" and event.payout_account:
            others = store.payout_accounts(event.payout_account) - {event.account}
            features["payout_others"] = len(others)
            if others:
                reasons.append("payout_shared")
            store.add_payout(event.payout_account, event.account)
            store.log_link(event.account, "payout", event.payout_account)

        return self._judge(event.type, reasons, features)

    def decide(self, event: Event) -> Decision:
        """Decide one event and remember what later decisions need of it. Logins are
        decided too (the server may act on them); the replay does not write them."""
        # Windows assume time order; a late event is placed at the latest time seen.
        now = max(event.ts, self._last_ts)
        self._last_ts = now
        state = self.store.account(event.account, now)
        decision = self._signals(event, state, now)
        self._remember(event, state, now, decision)
        self.store.save_account(event.account, state)
        return decision

    def _remember(self, event: Event, state: AccountState, now: float, decision: Decision) -> None:
        """What the account and its address keep of this decision for later ones."""
        state.decisions += 1
        if (
            event.type == "register"
            and decision.score >= self.settings.registration_remembered_score
        ):
            state.registration_flags = tuple(r for r in decision.reasons if ":" not in r)
        # Only the account's own behaviour is remembered: a decision that rested on the
        # memory alone must not feed it, or one early flag would snowball.
        if decision.decision == "allow" or not any(
            code.split(":", 1)[0] in BEHAVIOURAL for code in decision.reasons
        ):
            return
        if decision.decision == "block":
            state.blocked += 1
        else:
            state.flagged += 1
        if event.ip:
            self.store.note_distinct("flagged_ip", event.ip, event.account, now)
            state.flagged_ips.add(event.ip)

    def _place(
        self,
        event: Event,
        state: AccountState,
        now: float,
        reasons: list[str],
        features: dict[str, float],
    ) -> None:
        """Signals of where the event came from: its device and its address."""
        settings = self.settings
        store = self.store
        if event.device:
            on_device = store.note_distinct("device", event.device, event.account, now)
            features["device_accounts"] = on_device
            if on_device >= settings.device_farm_accounts:
                reasons.append("device_farm")
            elif on_device >= settings.device_shared_accounts:
                reasons.append("device_shared")
            first_use = state.devices.get(event.device)
            if first_use is None:
                first_use = state.devices[event.device] = now
            if (
                first_use - state.first_seen >= settings.new_device_after_days * DAY
                and now - first_use < DAY
            ):
                reasons.append("new_device_for_account")
            store.log_link(event.account, "device", event.device)
        if event.ip:
            on_ip = store.note_distinct("ip", event.ip, event.account, now)
            devices = store.note_distinct("ip_devices", event.ip, event.device or "?", now)
            features["ip_accounts"] = on_ip
            # Carrier NAT and campuses put many people on one address, each with a phone of
            # their own; many accounts on few devices is what a farm looks like.
            if (
                on_ip >= settings.ip_crowded_accounts
                and devices < settings.ip_crowded_devices_per_account * on_ip
            ):
                reasons.append("ip_crowded")
            store.log_link(event.account, "ip", event.ip)
            # An address remembers the accounts flagged on it for a while; on carrier NAT
            # or a campus they are a small share of its people, on a farm's line most.
            others = store.distinct("flagged_ip", event.ip, now) - (event.ip in state.flagged_ips)
            features["ip_flagged_accounts"] = others
            if (
                others >= settings.ip_flagged_accounts
                and others >= settings.ip_flagged_share * on_ip
            ):
                reasons.append("ip_flagged_accounts")

    def _registration(
        self,
        event: Event,
        now: float,
        subnet: str | None,
        reasons: list[str],
        features: dict[str, float],
    ) -> None:
        settings = self.settings
        store = self.store
        if event.phone_prefix in settings.virtual_operator_prefixes:
            reasons.append("phone_virtual_operator")
        if event.phone_hash and event.phone_hash.isascii() and event.phone_hash.isdigit():
            # Only numeric tokens keep the order of the numbers; a real hash does not.
            number = int(event.phone_hash)
            if store.phone_neighbours(number, settings.phone_sequence_distance):
                reasons.append("phone_sequence")
            store.add_phone(number)
        followers = event.platform_followers
        age = event.platform_account_age_days
        if event.platform_handle is None or (
            age is not None
            and age <= settings.platform_new_days
            and (followers or 0) <= settings.platform_new_followers
        ):
            reasons.append("platform_account_new")
        if event.ip:
            from_ip = store.note_count("reg_ip", event.ip, now)
            from_subnet = store.note_count("reg_subnet", subnet or event.ip, now)
            features["registrations_ip_hour"] = max(from_ip, from_subnet)
            if max(from_ip, from_subnet) >= settings.ip_registrations_per_hour:
                reasons.append("ip_registration_burst")
        if event.ua:
            # Batch tools register with one client build; compare the last minutes with
            # the same client's usual rate over the day.
            short = store.note_count("reg_cohort_short", event.ua, now)
            day = store.note_count("reg_cohort_day", event.ua, now)
            usual = (day - short) * settings.burst_window_minutes * 60 / DAY
            features["registration_burst"] = short
            if short >= settings.burst_registrations and short >= settings.burst_over_usual * max(
                usual, 1.0
            ):
                reasons.append("registration_burst")

    def _claim(
        self,
        event: Event,
        now: float,
        claims: dict[str, float],
        reasons: list[str],
        features: dict[str, float],
    ) -> None:
        if event.task:
            claims.setdefault(event.task, now)
        per_hour = self.store.note_count("claims", event.account, now)
        features["claims_hour"] = per_hour
        if per_hour > self.settings.claims_per_hour:
            reasons.append("velocity_claims")

    def _submission(
        self,
        event: Event,
        now: float,
        subnet: str | None,
        claims: dict[str, float],
        reasons: list[str],
        features: dict[str, float],
    ) -> None:
        settings = self.settings
        store = self.store
        if event.task:
            claimed_at = claims.get(event.task)
            if claimed_at is None:
                reasons.append("submit_without_claim")
            else:
                took = now - claimed_at
                features["claim_to_submit"] = took
                if took < settings.min_claim_to_submit_seconds:
                    reasons.append("submit_too_fast")
        per_hour = store.note_count("submits", event.account, now)
        features["submits_hour"] = per_hour
        if per_hour > settings.submits_per_hour:
            reasons.append("velocity_submits")
        if event.trajectory is not None:
            self._gesture(event.trajectory, reasons, features)
        if event.verified is False:
            reasons.append("platform_not_verified")
        if event.target and subnet:
            together = store.note_distinct(
                "cotarget", f"{subnet}|{event.target}", event.account, now
            )
            features["cotarget_accounts"] = together
            if together >= settings.cotarget_accounts:
                reasons.append("ip_cotarget")
        if event.target:
            store.log_action(Action(event.account, event.target, now))
        if event.evidence is not None:
            self._evidence(event, now, reasons, features)

    def _gesture(
        self,
        trajectory: list[tuple[float, float, float]],
        reasons: list[str],
        features: dict[str, float],
    ) -> None:
        gesture = trajectory_features(trajectory)
        if gesture is None:
            return
        features["straightness"] = gesture.straightness
        features["interval_cv"] = gesture.interval_cv
        if gesture.straightness >= self.settings.trajectory_straightness:
            reasons.append("trajectory_straight")
        if gesture.interval_cv <= self.settings.trajectory_interval_cv:
            reasons.append("trajectory_regular")

    def _evidence(
        self, event: Event, now: float, reasons: list[str], features: dict[str, float]
    ) -> None:
        settings = self.settings
        store = self.store
        evidence = event.evidence
        assert evidence is not None
        findings = None
        if evidence.ocr_text is not None:
            findings = ocr.inspect(
                evidence.ocr_text,
                target=event.target,
                task_type=event.task_type,
                submitted_at=now,
                utc_offset_hours=settings.clock_utc_offset_hours,
                before_minutes=settings.clock_before_minutes,
                after_minutes=settings.clock_after_minutes,
            )
            if findings.has_target is False:
                reasons.append("ocr_target_missing")
            if findings.has_done_state is False:
                reasons.append("ocr_done_state_missing")
            if findings.clock_agrees is False:
                reasons.append("ocr_clock_mismatch")
        if evidence.sha256 is not None:
            earlier = store.evidence_by_sha(evidence.sha256)
            if any(r.account != event.account for r in earlier):
                reasons.append("evidence_exact_reuse")
            elif any(r.task != event.task for r in earlier):
                reasons.append("evidence_resubmitted")
        if evidence.phash is not None:
            # Only a screenshot whose clock disagrees is compared across the whole radius;
            # otherwise only a very close copy could count, so only those are looked for.
            wide = findings is not None and findings.clock_agrees is False
            nearest = store.nearest_other(
                evidence.phash,
                settings.phash_radius if wide else settings.phash_copy_distance,
                event.account,
            )
            if nearest is not None:
                distance, record = nearest
                features["near_distance"] = distance
                # An honest screenshot of a popular page looks like everyone else's, but
                # its text shows this target, the done state and the time it was taken.
                # The clock is what tells them apart; without one only a very close copy
                # counts, and one showing the other image's minute is a copy however fresh.
                clock = findings.clock_minute if findings is not None else None
                agrees = findings.clock_agrees if findings is not None else None
                if (
                    agrees is False
                    or (clock is None and distance <= settings.phash_copy_distance)
                    or (
                        distance <= settings.phash_copy_distance
                        and clock is not None
                        and clock == record.clock_minute
                    )
                ):
                    reasons.append("evidence_near_duplicate")
        store.add_evidence(
            evidence.sha256,
            evidence.phash,
            EvidenceRecord(
                event.account, event.task, now, findings.clock_minute if findings else None
            ),
        )

    def _judge(self, kind: str, reasons: list[str], features: dict[str, float]) -> Decision:
        settings = self.settings
        weights = settings.weights
        keep = 1.0
        for code in reasons:
            keep *= 1.0 - weights.get(code.split(":", 1)[0], 0.0)
        rule_score = 1.0 - keep
        ordered = sorted(
            dict.fromkeys(reasons), key=lambda c: (-weights.get(c.split(":", 1)[0], 0.0), c)
        )
        hard = any(code in HARD_BLOCK for code in ordered)
        if self.model is not None:
            score = self.model.score(kind, ordered, features)
            review, block = settings.model_review_threshold, settings.model_block_threshold
        else:
            score = rule_score
            review, block = settings.review_threshold, settings.block_threshold
        if self.model is not None and score >= block and not hard:
            # A model may only block on evidence a person can read: the account's own
            # behaviour, now or remembered; anything else goes to a person first.
            readable = any(
                code.split(":", 1)[0] in BEHAVIOURAL or code == "account_previously_flagged"
                for code in ordered
            )
            if not readable:
                score = min(score, block - 0.0001)
        if hard or score >= block:
            verdict = "block"
        elif score >= review:
            verdict = "review"
        else:
            verdict = "allow"
        return Decision(verdict, round(score, 4), ordered, features)
