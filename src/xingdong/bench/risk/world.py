"""A seeded world of platform events: honest people and five families of fraud.

Honest people register over the week, share addresses the way people do (carrier NAT,
campuses, families on one phone or one wallet), do tasks at human speed and send honest
screenshots — which look alike when many people screenshot one popular page, but show
their own clock. Fraud comes as it is met in practice:

- ``bot_farm``: scripted emulators; accounts registered in bursts on virtual-operator
  numbers, tasks in waves on the targets a client paid for, gestures drawn by a script,
  template screenshots, winnings to a few wallets;
- ``proxy_registration``: batch registration through rotating residential proxies, one
  fresh device fingerprint per account, then scripted tasks with screenshots from a pool;
- ``screenshot_reuse``: real people who hand in screenshots they did not take (copies or
  re-encoded copies of someone else's) instead of doing the task;
- ``click_farm``: people in a room driving phone walls, each phone carrying accounts, who
  do the tasks for real on the client's targets and pad with popular tasks (camouflage);
- ``bought_aged``: old accounts with history, bought and then drained from the buyer's
  phones to the buyer's wallets.

The evasion level of the preset decides how careful fraud is (rotated clients, one
device per account, jittered gestures, edited clocks …). Every number comes from one
``random.Random(seed)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from xingdong.bench.risk.presets import Preset

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
LOCAL = timedelta(hours=8)
DONE = {"follow": "已关注", "like": "已点赞", "comment": "已评论"}
NOT_DONE = {"follow": "关注", "like": "点赞", "comment": "评论"}
VIRTUAL = ("170", "171", "162", "165", "167")
ORDINARY = (
    "134",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "177",
    "180",
    "181",
    "189",
    "173",
    "199",
    "191",
)
REGIONS = ("北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "河南", "福建")
INTERESTS = ("美食", "旅行", "美妆", "数码", "游戏", "健身", "母婴", "宠物", "汽车", "穿搭")
FAMILIES = ("bot_farm", "proxy_registration", "screenshot_reuse", "click_farm", "bought_aged")


@dataclass
class Target:
    handle: str
    task: str
    campaign: str
    task_type: str
    launch: float
    popularity: float
    base_phash: int
    followers: int


@dataclass
class Person:
    account: str
    family: str | None
    device: str
    ua: str
    ips: list[str]
    phone_prefix: str
    payout: str
    registered: float | None
    fraud_from: float = 0.0
    """Actions at or after this time are fraudulent (later than 0 for bought accounts)."""
    extra_devices: list[str] = field(default_factory=list)


@dataclass
class World:
    events: list[dict[str, Any]]
    """Sorted by time, in the replay format."""
    account_labels: dict[str, str | None]
    """Account → fraud family, None for an honest account."""
    fraud_lines: dict[int, str]
    """0-based line of each fraudulent event → its family."""

    def write(self, events_path: Path, labels_path: Path) -> None:
        with events_path.open("w", encoding="utf-8") as out:
            for event in self.events:
                out.write(json.dumps(event, ensure_ascii=False) + "\n")
        with labels_path.open("w", encoding="utf-8") as out:
            for account in sorted(self.account_labels):
                family = self.account_labels[account]
                label = "honest" if family is None else "fraud"
                out.write(json.dumps({"account": account, "label": label, "family": family}))
                out.write("\n")
            for line in sorted(self.fraud_lines):
                family = self.fraud_lines[line]
                out.write(json.dumps({"line": line, "label": "fraud", "family": family}) + "\n")


class _Builder:
    def __init__(self, preset: Preset, seed: int) -> None:
        self.preset = preset
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible simulation
        self.end = START + preset.days * 86400
        self.events: list[tuple[float, int, dict[str, Any], str | None]] = []
        self.labels: dict[str, str | None] = {}
        self.counter = 0
        self.uas = [
            f"Mozilla/5.0 (Linux; Android {v}; {m}) XingdongApp/{a}"
            for v, m, a in [
                (str(self.rng.choice([10, 11, 12, 13, 14])), model, app)
                for model in (
                    "V2145A",
                    "PGT-AN10",
                    "M2012K11AC",
                    "SM-S9180",
                    "22081212C",
                    "ALN-AL00",
                    "PHB110",
                    "V2217A",
                    "RMX3700",
                    "CPH2449",
                )
                for app in ("3.2.0", "3.2.1", "3.3.0")
            ]
        ] + [
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {v} like Mac OS X) XingdongApp/3.3.0"
            for v in ("16_6", "17_1", "17_4", "18_0")
        ]
        self.ua_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(self.uas))]
        self.carrier_subnets = [
            f"{self.rng.choice([39, 112, 117, 120, 223])}.{self.rng.randrange(256)}."
            f"{self.rng.randrange(256)}"
            for _ in range(40)
        ]
        self.campuses = [
            f"{self.rng.choice([58, 59, 202, 210, 219])}.{self.rng.randrange(256)}."
            f"{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
            for _ in range(8)
        ]
        self.targets = self._targets()
        self.pool: dict[str, list[tuple[float, int, str, str]]] = {}
        """Target handle → readable screenshots (taken at, phash, ocr text, sha)."""

    # ---- small helpers -------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _hex(self, bits: int = 64) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _flip(self, value: int, p: float) -> int:
        for bit in range(64):
            if self.rng.random() < p:
                value ^= 1 << bit
        return value

    def _home_ip(self) -> str:
        r = self.rng
        return (
            f"{r.choice([36, 60, 101, 113, 115, 125, 180, 183, 218, 222])}.{r.randrange(256)}."
            f"{r.randrange(256)}.{r.randrange(1, 255)}"
        )

    def _carrier_ip(self, subnet: str) -> str:
        return f"{subnet}.{self.rng.randrange(1, 255)}"

    def _ua(self) -> str:
        return self.rng.choices(self.uas, self.ua_weights)[0]

    def _emit(self, ts: float, event: dict[str, Any], family: str | None) -> None:
        event["ts"] = round(ts, 3)
        self.events.append((ts, len(self.events), event, family))

    def _base(
        self, kind: str, person: Person, ts: float, ip: str | None = None, device: str | None = None
    ) -> dict[str, Any]:
        return {
            "type": kind,
            "ts": ts,
            "account": person.account,
            "ip": ip or self.rng.choice(person.ips),
            "device": device or person.device,
            "ua": person.ua,
        }

    def _targets(self) -> list[Target]:
        targets = []
        for n in range(self.preset.targets):
            handle = (
                f"dy_{self.rng.choice(['mei', 'chi', 'wan', 'kan', 'lu', 'xi'])}"
                f"{self.rng.randrange(10**5, 10**6)}"
            )
            task_type = self.rng.choices(["follow", "like", "comment"], [0.5, 0.35, 0.15])[0]
            targets.append(
                Target(
                    handle=handle,
                    task=f"t{n}",
                    campaign=f"c{n // 3}",
                    task_type=task_type,
                    launch=START + self.rng.uniform(-1, self.preset.days - 1.5) * 86400,
                    popularity=1.0 / (n + 3) ** 0.9,
                    base_phash=self.rng.getrandbits(64),
                    followers=int(math.exp(self.rng.uniform(5, 13))),
                )
            )
        return targets

    def _live_targets(self, ts: float) -> list[Target]:
        return [t for t in self.targets if t.launch <= ts <= t.launch + 3 * 86400]

    def _pick_target(self, ts: float) -> Target:
        live = self._live_targets(ts) or self.targets
        return self.rng.choices(live, [t.popularity for t in live])[0]

    # ---- evidence and gestures -------------------------------------------------------
    def _ocr(self, target: Target, shot_at: float, *, done: bool = True) -> str:
        local = datetime.fromtimestamp(shot_at, UTC) + LOCAL
        words = DONE if done else NOT_DONE
        return (
            f"{local:%H:%M} 5G {self.rng.randrange(12, 100)}%\n{target.handle}\n"
            f"{target.followers}粉丝 获赞{self.rng.randrange(1000, 99999)}\n"
            f"{words[target.task_type]} 私信\n作品 推荐"
        )

    def _honest_evidence(self, target: Target, submit_at: float) -> dict[str, Any]:
        r = self.rng
        phash = self._flip(target.base_phash, 0.07)
        read = self._ocr(target, submit_at - r.uniform(10, 240))
        roll = r.random()
        if roll < 0.02:
            read = read.replace(target.handle, target.handle[:-2] + "0l")  # misread
        elif roll < 0.035:
            read = read.replace(DONE[target.task_type], "巳关")
        text = None if 0.035 <= roll < 0.065 else read  # unreadable
        sha = self._hex(256)
        if text is not None:
            self.pool.setdefault(target.handle, []).append((submit_at, phash, text, sha))
        return {
            "sha256": sha,
            "phash": f"{phash:016x}",
            "width": 1080,
            "height": 2400,
            "ocr_text": text,
        }

    def _copied_evidence(
        self, target: Target, submit_at: float, exact_share: float
    ) -> dict[str, Any]:
        """A screenshot someone else took of this target, copied or re-encoded."""
        r = self.rng
        # only what was already handed in can be copied
        seen = [shot for shot in self.pool.get(target.handle, []) if shot[0] < submit_at - 60]
        if not seen:
            # nothing to copy yet: the fraudster's own old screenshot, taken hours ago
            phash = self._flip(target.base_phash, 0.07)
            text = self._ocr(target, submit_at - r.uniform(3, 30) * 3600)
            sha = self._hex(256)
            self.pool.setdefault(target.handle, []).append((submit_at, phash, text, sha))
        else:
            _, phash, text, sha = r.choice(seen[-50:])
        if r.random() >= exact_share:
            phash = self._flip(phash, 0.02)
            sha = self._hex(256)
            if self.preset.evasion >= 2 and r.random() < 0.2:
                # the clock edited to the submission time
                text = self._ocr(target, submit_at - r.uniform(10, 120))
        return {
            "sha256": sha,
            "phash": f"{phash:016x}",
            "width": 1080,
            "height": 2400,
            "ocr_text": text,
        }

    def _human_gesture(self) -> list[list[float]] | None:
        r = self.rng
        if r.random() < 0.05:
            return None
        x0, y0 = r.uniform(100, 900), r.uniform(1400, 2200)
        x1, y1 = r.uniform(700, 1000), r.uniform(1900, 2300)
        dx, dy = x1 - x0, y1 - y0
        bend = r.uniform(0.08, 0.35) * r.choice([-1, 1])
        cx, cy = (x0 + x1) / 2 - dy * bend, (y0 + y1) / 2 + dx * bend
        n = r.randrange(12, 40)
        points = []
        t = 0.0
        for i in range(n):
            u = i / (n - 1)
            u = u * u * (3 - 2 * u)
            x = (1 - u) ** 2 * x0 + 2 * (1 - u) * u * cx + u * u * x1 + r.gauss(0, 1.2)
            y = (1 - u) ** 2 * y0 + 2 * (1 - u) * u * cy + u * u * y1 + r.gauss(0, 1.2)
            points.append([round(t, 1), round(x, 1), round(y, 1)])
            t += (
                16.7
                * (r.choice([1, 1, 1, 1, 2, 3]) if r.random() < 0.3 else 1)
                * r.uniform(0.7, 1.4)
            )
        return points

    def _script_gesture(self) -> list[list[float]] | None:
        r = self.rng
        x0, y0 = r.uniform(100, 900), r.uniform(1400, 2200)
        x1, y1 = r.uniform(700, 1000), r.uniform(1900, 2300)
        n = r.randrange(8, 20)
        step = r.choice([10.0, 16.0, 20.0])
        careful = self.preset.evasion >= 2
        points = []
        t = 0.0
        for i in range(n):
            u = i / (n - 1)
            x, y = x0 + (x1 - x0) * u, y0 + (y1 - y0) * u
            if careful:
                x += r.gauss(0, 2.0)
                y += r.gauss(0, 2.0)
            points.append([round(t, 1), round(x, 1), round(y, 1)])
            t += step * (r.uniform(0.75, 1.25) if careful else 1.0)
        return points

    # ---- the actions -----------------------------------------------------------------
    def _register(
        self,
        person: Person,
        ts: float,
        *,
        new_platform: bool,
        family: str | None,
        ip: str | None = None,
    ) -> None:
        r = self.rng
        number = f"{person.phone_prefix}{r.randrange(10**8):08d}"
        event = self._base("register", person, ts, ip)
        handle = None if (new_platform and r.random() < 0.5) else f"u{self._hex(32)}"
        event.update(
            phone_hash=hashlib.sha256(number.encode()).hexdigest(),
            phone_prefix=person.phone_prefix,
            birth_year=r.randrange(1965, 2007),
            region=r.choice(REGIONS),
            interests=r.sample(INTERESTS, 0 if new_platform and r.random() < 0.6 else 3),
            platform_handle=handle,
            platform_followers=(
                r.randrange(0, 4) if new_platform else int(math.exp(r.uniform(1, 8)))
            )
            if handle
            else None,
            platform_account_age_days=(r.randrange(0, 5) if new_platform else r.randrange(8, 3000))
            if handle
            else None,
        )
        self._emit(ts, event, family)

    def _task(
        self,
        person: Person,
        target: Target,
        claim_at: float,
        delay: float,
        evidence: dict[str, Any] | None,
        gesture: list[list[float]] | None,
        verified: bool | None,
        family: str | None,
        ip: str | None = None,
        device: str | None = None,
        submit: bool = True,
    ) -> None:
        ip = ip or self.rng.choice(person.ips)
        claim = self._base("claim", person, claim_at, ip, device)
        claim.update(
            task=target.task,
            campaign=target.campaign,
            target=target.handle,
            task_type=target.task_type,
        )
        self._emit(claim_at, claim, family)
        if not submit:
            return
        submit_at = claim_at + delay
        body = self._base("submit", person, submit_at, ip, device)
        body.update(
            task=target.task,
            campaign=target.campaign,
            target=target.handle,
            task_type=target.task_type,
            evidence=evidence or self._honest_evidence(target, submit_at),
            trajectory=gesture,
            verified=verified,
        )
        self._emit(submit_at, body, family)

    def _withdraw(
        self,
        person: Person,
        ts: float,
        family: str | None,
        ip: str | None = None,
        device: str | None = None,
    ) -> None:
        event = self._base("withdraw", person, ts, ip, device)
        event.update(amount_fen=self.rng.randrange(500, 20000), payout_account=person.payout)
        self._emit(ts, event, family)

    def _human_verdict(self) -> bool | None:
        roll = self.rng.random()
        return True if roll < 0.8 else (None if roll < 0.98 else False)

    # ---- honest people ---------------------------------------------------------------
    def honest(self) -> None:
        r = self.rng
        people: list[Person] = []
        for _ in range(self.preset.honest):
            account = self._id("a")
            kind = r.choices(["home", "mobile", "campus"], [0.4, 0.45, 0.15])[0]
            if kind == "home":
                ips = [self._home_ip()]
            elif kind == "mobile":
                subnet = r.choice(self.carrier_subnets)
                ips = [self._carrier_ip(subnet) for _ in range(5)]
            else:
                ips = [r.choice(self.campuses)]
            prefix = r.choice(VIRTUAL) if r.random() < 0.03 else r.choice(ORDINARY)
            person = Person(account, None, self._hex(), self._ua(), ips, prefix, self._hex(), None)
            if people and r.random() < 0.03:
                # a family: one phone, often one wallet
                other = r.choice(people)
                person.device, person.ips = other.device, other.ips
                if r.random() < 0.5:
                    person.payout = other.payout
            people.append(person)
            self.labels[account] = None
        for person in people:
            existing = r.random() < 0.3
            start = START + r.uniform(0, 0.3 if existing else 0.95) * (self.end - START)
            if not existing:
                person.registered = start
                self._register(person, start, new_platform=r.random() < 0.08, family=None)
            self._honest_activity(person, start, self.end, None)

    def _honest_activity(
        self, person: Person, start: float, end: float, family: str | None
    ) -> None:
        r = self.rng
        tasks = max(1, int(r.lognormvariate(2.2, 0.8)))
        done: set[str] = set()
        times = sorted(r.uniform(start + 60, end) for _ in range(tasks))
        for at in times:
            if r.random() < 0.3:
                self._emit(at - 30, self._base("login", person, at - 30), family)
            target = self._pick_target(at)
            if target.task in done:
                continue
            done.add(target.task)
            delay = (
                r.uniform(6, 9.5)
                if r.random() < 0.005
                else max(12.0, r.lognormvariate(math.log(75), 0.6))
            )
            self._task(
                person,
                target,
                at,
                delay,
                None,
                self._human_gesture(),
                self._human_verdict(),
                family,
                submit=r.random() > 0.05,
            )
        if r.random() < 0.4:
            self._withdraw(person, r.uniform(max(start, times[-1]), end), family)

    # ---- fraud -----------------------------------------------------------------------
    def _client_targets(self, count: int) -> list[Target]:
        return self.rng.sample(self.targets[len(self.targets) // 5 :], count)

    def bot_farm(self) -> None:
        r, ev = self.rng, self.preset.evasion
        family = "bot_farm"
        subnets = [
            f"{r.choice([43, 47, 103, 106, 139])}.{r.randrange(256)}.{r.randrange(256)}"
            for _ in range(2 + 2 * ev)
        ]
        devices = [self._hex() for _ in range(max(1, self.preset.bot_farm // (4 - ev)))]
        wallets = [self._hex() for _ in range(1 + 3 * ev)]
        bots: list[Person] = []
        burst_at = START + r.uniform(0.05, 0.3) * (self.end - START)
        shared_ua = self._ua()
        for n in range(self.preset.bot_farm):
            device = self._hex() if ev >= 2 else devices[n % len(devices)]
            ip = f"{r.choice(subnets)}.{r.randrange(1, 255)}"
            prefix = r.choice(VIRTUAL) if r.random() < (1.0 - 0.3 * ev) else r.choice(ORDINARY)
            ua = self._ua() if ev >= 2 else shared_ua
            person = Person(
                self._id("a"), family, device, ua, [ip], prefix, r.choice(wallets), None
            )
            # registrations in batches of a few dozen, minutes apart
            at = (
                burst_at
                + (n // 30) * 3600 * r.uniform(2, 8)
                + (n % 30) * r.uniform(5, 40) * (1 + 2 * ev)
            )
            person.registered = at
            self._register(person, at, new_platform=True, family=family)
            bots.append(person)
            self.labels[person.account] = family
        self._waves(bots, family, spread=300.0 * (1 + ev), scripted=True)

    def proxy_registration(self) -> None:
        r, ev = self.rng, self.preset.evasion
        family = "proxy_registration"
        ua = self._ua()
        wallets = [self._hex() for _ in range(2 + 4 * ev)]
        accounts: list[Person] = []
        at = START + r.uniform(0.1, 0.5) * (self.end - START)
        for n in range(self.preset.proxy_registration):
            prefix = r.choice(VIRTUAL) if r.random() < 0.8 - 0.2 * ev else r.choice(ORDINARY)
            person = Person(
                self._id("a"),
                family,
                self._hex(),
                self._ua() if ev >= 2 else ua,
                [self._home_ip() for _ in range(3)],
                prefix,
                r.choice(wallets),
                None,
            )
            at += r.uniform(3, 25) * (1 + ev) if n % 50 else r.uniform(2, 12) * 3600
            person.registered = at
            self._register(person, at, new_platform=True, family=family)
            accounts.append(person)
            self.labels[person.account] = family
        self._waves(accounts, family, spread=900.0, scripted=True, copies=True)

    def _waves(
        self,
        crew: list[Person],
        family: str,
        *,
        spread: float,
        scripted: bool,
        copies: bool = False,
    ) -> None:
        """The crew works the client's targets in waves; scripted crews also draw gestures
        and screenshots by program."""
        r, ev = self.rng, self.preset.evasion
        clients = self._client_targets(max(6, len(crew) // 8))
        first = min(p.registered or START for p in crew) + 3600
        for target in clients:
            wave_at = max(first, target.launch) + r.uniform(0, 86400)
            if wave_at > self.end - 3600:
                continue
            template = self._flip(target.base_phash, 0.07)
            joined = r.sample(crew, max(2, int(len(crew) * r.uniform(0.4, 0.8))))
            for person in joined:
                if (person.registered or START) > wave_at:
                    continue
                claim_at = wave_at + r.uniform(0, spread)
                if scripted:
                    delay = (
                        r.uniform(2, 6)
                        if ev == 0
                        else (r.uniform(3, 12) if ev == 1 else r.uniform(12, 60))
                    )
                    submit_at = claim_at + delay
                    if copies:
                        evidence = self._copied_evidence(target, submit_at, 0.5 - 0.2 * ev)
                    else:
                        shot = self._flip(template, 0.01)
                        evidence = {
                            "sha256": self._hex(256),
                            "phash": f"{shot:016x}",
                            "width": 1080,
                            "height": 2400,
                            "ocr_text": self._ocr(target, submit_at - r.uniform(1, 5)),
                        }
                    gesture = self._script_gesture() if r.random() < 0.85 else None
                    verified = r.random() < 0.7 if r.random() < 0.8 else None
                    self._task(person, target, claim_at, delay, evidence, gesture, verified, family)
                else:
                    self._task(
                        person,
                        target,
                        claim_at,
                        max(12.0, r.lognormvariate(4, 0.5)),
                        None,
                        self._human_gesture(),
                        True,
                        family,
                    )
        for person in crew:
            if r.random() < 0.8:
                self._withdraw(person, r.uniform(self.end - 86400, self.end), family)

    def screenshot_reuse(self) -> None:
        r, ev = self.rng, self.preset.evasion
        family = "screenshot_reuse"
        for _ in range(self.preset.screenshot_reuse):
            kind = r.choice(["home", "mobile"])
            ips = (
                [self._home_ip()]
                if kind == "home"
                else [self._carrier_ip(r.choice(self.carrier_subnets)) for _ in range(4)]
            )
            person = Person(
                self._id("a"),
                family,
                self._hex(),
                self._ua(),
                ips,
                r.choice(ORDINARY),
                self._hex(),
                None,
            )
            self.labels[person.account] = family
            start = START + r.uniform(0, 0.7) * (self.end - START)
            person.registered = start
            self._register(person, start, new_platform=False, family=family)
            for _ in range(r.randrange(5, 25)):
                at = r.uniform(start + 3600, self.end)
                target = self._pick_target(at)
                delay = r.uniform(8, 40)
                evidence = self._copied_evidence(target, at + delay, 0.8 - 0.35 * ev)
                verified = None if r.random() < 0.6 else r.random() < 0.5
                self._task(
                    person, target, at, delay, evidence, self._human_gesture(), verified, family
                )
            if r.random() < 0.7:
                self._withdraw(person, r.uniform(self.end - 86400, self.end), family)

    def click_farm(self) -> None:
        r, ev = self.rng, self.preset.evasion
        family = "click_farm"
        per_farm = 25
        for farm in range(max(1, self.preset.click_farm // per_farm)):
            office = [self._home_ip() for _ in range(1 + ev)]
            phones = [self._hex() for _ in range(per_farm // (3 - ev) + 1)]
            boss = [self._hex() for _ in range(1 + 2 * ev)]
            crew: list[Person] = []
            day0 = START + r.uniform(0, 0.3) * (self.end - START) + farm * 3600
            for n in range(per_farm):
                device = phones[n % len(phones)]
                prefix = r.choice(VIRTUAL) if r.random() < 0.2 else r.choice(ORDINARY)
                person = Person(
                    self._id("a"), family, device, self._ua(), office, prefix, r.choice(boss), None
                )
                at = day0 + (n // 8) * 86400 * 0.5 + (n % 8) * r.uniform(120, 600)
                person.registered = at
                self._register(person, at, new_platform=r.random() < 0.3, family=family)
                crew.append(person)
                self.labels[person.account] = family
            self._waves(crew, family, spread=2400.0, scripted=False)
            for person in crew:
                # camouflage: popular tasks, done one by one like anyone else
                for _ in range(r.randrange(2, 6 + 4 * ev)):
                    at = r.uniform((person.registered or START) + 3600, self.end)
                    target = self._pick_target(at)
                    self._task(
                        person,
                        target,
                        at,
                        max(12.0, r.lognormvariate(4, 0.5)),
                        None,
                        self._human_gesture(),
                        True,
                        family,
                    )

    def bought_aged(self) -> None:
        r, ev = self.rng, self.preset.evasion
        family = "bought_aged"
        buyer_phones = [self._hex() for _ in range(max(1, self.preset.bought_aged // (8 - 3 * ev)))]
        buyer_ips = [self._home_ip() for _ in range(2 + ev)]
        wallets = [self._hex() for _ in range(1 + 2 * ev)]
        sold_at = START + r.uniform(0.3, 0.5) * (self.end - START)
        for n in range(self.preset.bought_aged):
            person = Person(
                self._id("a"),
                family,
                self._hex(),
                self._ua(),
                [self._home_ip()],
                r.choice(ORDINARY),
                self._hex(),
                None,
            )
            self.labels[person.account] = family
            # the old owner's last days: ordinary use, not fraud
            start = START + r.uniform(0, 0.1) * (self.end - START)
            person.fraud_from = sold_at + n * r.uniform(60, 300)
            self._honest_activity(person, start, person.fraud_from - 3600, None)
            device = self._hex() if ev >= 2 else buyer_phones[n % len(buyer_phones)]
            person.payout = r.choice(wallets)
            at = person.fraud_from
            self._emit(at, self._base("login", person, at, r.choice(buyer_ips), device), family)
            for _ in range(r.randrange(10, 30)):
                at += r.uniform(60, 400)
                target = self._pick_target(at)
                self._task(
                    person,
                    target,
                    at,
                    max(10.0, r.lognormvariate(3.3, 0.5)),
                    None,
                    self._script_gesture() if r.random() < 0.5 else self._human_gesture(),
                    True,
                    family,
                    ip=r.choice(buyer_ips),
                    device=device,
                )
            self._withdraw(person, at + r.uniform(300, 3600), family, r.choice(buyer_ips), device)

    def build(self) -> World:
        self.honest()
        self.bot_farm()
        self.proxy_registration()
        self.screenshot_reuse()
        self.click_farm()
        self.bought_aged()
        self.events.sort(key=lambda item: (item[0], item[1]))
        events: list[dict[str, Any]] = []
        fraud_lines: dict[int, str] = {}
        for ts, _, event, family in self.events:
            if ts > self.end + 86400:
                continue
            if family is not None:
                fraud_lines[len(events)] = family
            events.append(event)
        return World(events, self.labels, fraud_lines)


def generate(preset: Preset, seed: int) -> World:
    return _Builder(preset, seed).build()
