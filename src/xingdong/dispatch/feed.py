"""The dispatcher: one person's feed at one moment, and learning from what happened.

``Dispatcher`` is shared by every request of a process. The live feed keeps it in step with
the database (``upsert_task``, ``remove_task``, ``set_progress``, ``set_all_done``, nightly
``seed_prices``) and reports outcomes with ``record``; the offline dispatcher drives the
same object from simulated people.

Scoring (one compiled pass over every eligible task, ``kernels.scores_into``):

    margin = price valued * (1 + boosts) - λ * (1 - relief) * price
    score = (margin - θ) * attraction

where the price valued is flattened towards the candidates' mean by the relief, λ is the
campaign's pacing price, relief the fairness relief of the person's tier, boosts the
novice and quality boosts, attraction the optimistic odds of completing the task alone at
the top, and θ the value of the best feed of that size (people choose one task of a feed,
so tasks compete; ``scores`` explains). The best ``candidates`` then pass a diversity
filter (at most ``max_per_brand`` tasks per brand) and each chosen item gets a reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch import kernels
from xingdong.dispatch.arrays import grown
from xingdong.dispatch.completion import INTEREST, CompletionModel
from xingdong.dispatch.eligibility import EligibilityIndex
from xingdong.dispatch.fairness import TierFairness
from xingdong.dispatch.pacing import BudgetPacer, TrafficForecast
from xingdong.dispatch.profiles import TIERS, PersonProfile, TaskSpec
from xingdong.dispatch.reasons import Reason
from xingdong.dispatch.weights import DispatchWeights

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
LEARNED_INTEREST_LIFT = 0.2
"""How far above the other interests' lifts a person's interest must be for the feed to say
the task is often taken by people into it."""
MIN_INTERESTS_COMPARED = 2
"""People of at least this many interests must have been shown a task before one of them
is said to take it more than the others."""
SCORED_SLATE = 20
"""The feed size ``scores`` assumes when none is given (the live feed's default)."""
THETA_STEPS = 3
"""Dinkelbach steps towards the value θ of the best feed (``scores``)."""
GOOD_REWARD_OVER_MEDIAN = 1.5


class FeedItem:
    """A placed task, its score and why it is there. The reason is worked out when first
    read (the live feed reads it for what it shows, right away; a simulation, never)."""

    __slots__ = ("_reason", "_reasons", "_slot", "score", "task_id")

    def __init__(self, task_id: str, score: float, reasons: _Reasons, slot: int) -> None:
        self.task_id = task_id
        self.score = score
        self._reasons = reasons
        self._slot = slot
        self._reason: Reason | None = None

    @property
    def reason(self) -> Reason:
        if self._reason is None:
            self._reason = self._reasons.of(self._slot)
        return self._reason

    def __repr__(self) -> str:
        return f"FeedItem({self.task_id!r}, {self.score!r})"


@dataclass(frozen=True)
class Exposure:
    """One logged showing of a task and what came of it."""

    person: PersonProfile
    task_id: str
    position: int
    completed: bool


@dataclass(frozen=True)
class Feed:
    items: list[FeedItem]
    empty_reason: Reason | None = None
    """Why the feed is empty (None when it is not)."""

    @property
    def task_ids(self) -> list[str]:
        return [item.task_id for item in self.items]


class Dispatcher:
    def __init__(
        self,
        weights: DispatchWeights | None = None,
        *,
        forecast: TrafficForecast | None = None,
        seed: int = 0,
        capacity: int = 256,
    ) -> None:
        self.weights = weights or DispatchWeights()
        self.index = EligibilityIndex(capacity)
        self.model = CompletionModel(self.weights, capacity)
        self.pacer = BudgetPacer(self.weights, forecast or TrafficForecast(), capacity)
        self.fairness = TierFairness(self.weights)
        self._rng = np.random.default_rng(seed)
        self.price_fen: FloatArray = np.zeros(capacity)
        self.reward_fen: FloatArray = np.zeros(capacity)
        self.is_quality: NDArray[np.bool_] = np.zeros(capacity, dtype=np.bool_)
        self.is_novice: NDArray[np.bool_] = np.zeros(capacity, dtype=np.bool_)
        self.jitter: FloatArray = np.zeros(capacity)
        self._people: dict[str, PersonProfile] = {}
        self._shown: dict[str, dict[str, _Shown]] = {}
        self._placed: dict[str, tuple[list[str], list[float]]] = {}
        """The feed last placed for each person, not yet remembered as ``_shown`` (it is
        when an outcome or ``shown_only`` first needs it)."""
        self._outcomes: dict[str, dict[str, bool]] = {}
        self._open: _OpenSlots | None = None

    def set_weights(self, weights: DispatchWeights) -> None:
        self.weights = weights
        self.model.set_weights(weights)
        self.pacer.weights = weights
        self.fairness.weights = weights
        # The guard's lead and slack may have moved: the plans are looked up again at the
        # next request, and the open tasks worked out again.
        self.pacer.planned_s = -math.inf
        self._open = None
        # What was reached under the old weights keeps to the new ceilings, and a step of
        # 0 turns its part off now rather than freezing it where it stood.
        ceiling = 0.0 if weights.pacing_step <= 0 else weights.pacing_max_price
        np.clip(self.pacer.price, 0.0, ceiling, out=self.pacer.price)
        self.fairness.cap(0.0 if weights.fairness_step <= 0 else weights.fairness_max_boost)

    # --- keeping in step with the campaigns ------------------------------------------

    def upsert_task(self, task: TaskSpec) -> None:
        """Add a live task, or update its terms (what it learned and spent is kept)."""
        self._open = None
        known = task.id in self.index.slot_of
        slot = self.index.upsert(task)
        capacity = self.index.capacity
        if self.price_fen.shape[0] < capacity:
            self.price_fen = grown(self.price_fen, capacity, 0.0)
            self.reward_fen = grown(self.reward_fen, capacity, 0.0)
            self.is_quality = grown(self.is_quality, capacity, False)
            self.is_novice = grown(self.is_novice, capacity, False)
            self.jitter = grown(self.jitter, capacity, 0.0)
        self.price_fen[slot] = task.price_fen
        self.reward_fen[slot] = task.reward_fen
        self.is_quality[slot] = task.is_quality
        self.is_novice[slot] = task.is_novice
        if known:
            self.model.retype(slot, task.type, task.category)
            self.pacer.retime(slot, task.start_s, task.end_s)
            return
        # A fixed, seeded sliver of score breaks ties the same way on every run.
        self.jitter[slot] = float(self._rng.random()) * 1e-6
        # The pacer first: a new task must never keep the pacing state of the one that
        # had its slot before, even if the model's start failed.
        self.pacer.reset_task(slot, task.start_s, task.end_s, capacity)
        self.model.reset_task(slot, task.type, capacity, task.category)

    def remove_task(self, task_id: str) -> None:
        self.index.remove(task_id)
        self._open = None

    def set_progress(self, task_id: str, *, completed: int, reserved: int = 0) -> None:
        self.index.set_progress(task_id, completed=completed, reserved=reserved)
        self._units_moved(self.index.slot_of[task_id])

    def set_all_done(self, person_id: str, taken: Mapping[str, int]) -> None:
        self.index.set_all_done(person_id, taken)

    def seed_prices(self, prices: Mapping[str, float]) -> None:
        """Start each campaign's pacing price at the given value (last night's duals)."""
        for task_id, price in prices.items():
            slot = self.index.slot_of.get(task_id)
            if slot is not None:
                self.pacer.seed(slot, price)

    def pacing_price(self, task_id: str) -> float | None:
        """The task's pacing price now (None for a task this dispatcher does not place)."""
        slot = self.index.slot_of.get(task_id)
        return None if slot is None else float(self.pacer.price[slot])

    # --- the feed ---------------------------------------------------------------------

    def _open_now(self, now_s: float) -> BoolArray:
        """Slots inside their window with units left that the pacing guard lets through.

        Kept between requests: it changes when a window opens or closes, when the plans
        move (every ``ADVANCE_EVERY_S``), when tasks come or go (each of which recomputes
        it) and when a task's units move (which updates that task's entry alone)."""
        kept = self._open
        if (
            kept is None
            or not kept.since_s <= now_s < kept.until_s
            or kept.planned_s != self.pacer.planned_s
        ):
            kept = self._open = _OpenSlots(
                self._open_mask(now_s),
                since_s=now_s,
                until_s=self.index.next_change_s(now_s),
                planned_s=self.pacer.planned_s,
            )
        return kept.mask

    def _open_mask(self, now_s: float, slots: IntArray | slice = slice(None)) -> BoolArray:
        index = self.index
        used = index.completed[slots] + index.reserved[slots]
        committed = used / np.maximum(index.quantity[slots], 1)
        mask: BoolArray = index.open_mask(now_s, slots) & ~self.pacer.ahead_of_plan(
            committed, slots
        )
        return mask

    def _advance(self, now_s: float) -> None:
        """Move the pacing plans to ``now_s``; when they moved, let go of the prices of
        the campaigns that fell too far behind them."""
        moved_at = self.pacer.planned_s
        self.pacer.advance(now_s)
        if self.pacer.planned_s != moved_at:
            index = self.index
            self.pacer.release_behind(index.completed + index.reserved, index.quantity)

    def _units_moved(self, slot: int) -> None:
        kept = self._open
        if kept is not None:
            at = np.array([slot])
            kept.mask[at] = self._open_mask(kept.since_s, at)

    def _open_slots(self, person: PersonProfile, now_s: float) -> IntArray:
        return np.flatnonzero(self.index.eligible(person, self._open_now(now_s)))

    def scores(self, person: PersonProfile, slots: IntArray, k: int = SCORED_SLATE) -> FloatArray:
        """The score of each slot for this person in a feed of ``k`` (the compiled
        step): (margin - θ) * attraction, best first.

        People choose one task among those shown (a multinomial logit with position
        bias), so tasks compete: a likely but cheap task shown first takes completions
        from a dearer one. The best feed of k for an expected margin per completion m and
        attraction a (the odds of completing the task alone at the top) is worth
        θ = Σ m a β / (1 + Σ a β) over its tasks, and it is the k best by (m - θ)·a, in that
        order (Dinkelbach's method, ``best_feed_value``). A task worth less than θ comes
        after every task worth more, however likely it is.
        """
        weights = self.weights
        model = self.model
        novice_boost = weights.novice_boost if person.tier == "novice" else 0.0
        terms = np.array(
            [weights.value, weights.quality_boost, novice_boost, self.fairness.relief(person.tier)]
        )
        out = np.empty(slots.shape[0])
        kernels.scores_into(
            out,
            slots,
            model.task_bold,
            model.slot_type,
            model.type_label_mean,
            model.leaning(person.id),
            model.label_task_mean,
            model.label_columns(person),
            weights.fit,
            self.price_fen,
            self.pacer.price,
            self.is_quality,
            self.is_novice,
            terms,
            self.jitter,
            model.position_mean,
            max(k, 1),
            THETA_STEPS,
            model.slot_category,
            model.category_label_mean,
            model.category_interest,
            model.match,
        )
        return out

    def recommend(self, person: PersonProfile, now_s: float, k: int) -> Feed:
        self._learn_outcomes(person.id)
        self._people[person.id] = person
        self._advance(now_s)
        self.fairness.visited(person.tier)
        slots = self._open_slots(person, now_s) if k > 0 else np.empty(0, dtype=np.int64)
        if slots.size == 0:
            self._placed.pop(person.id, None)
            self._shown[person.id] = {}
            return Feed([], self.why_empty(person, now_s))
        score = self.scores(person, slots, k)
        wanted = max(k * 4, self.weights.candidates)
        if slots.size > wanted:
            top = np.argpartition(score, -wanted)[-wanted:]
            order = top[np.argsort(-score[top], kind="stable")]
        else:
            order = np.argsort(-score, kind="stable")
        ranked = slots[order].tolist()
        tasks = self.index.tasks
        per_brand: dict[str, int] = {}
        limit = self.weights.max_per_brand
        passed_over: list[int] = []
        picked: list[int] = []
        for n, slot in enumerate(ranked):
            brand = tasks[slot].brand
            if per_brand.get(brand, 0) >= limit:
                passed_over.append(n)
                continue
            per_brand[brand] = per_brand.get(brand, 0) + 1
            picked.append(n)
            if len(picked) == k:
                break
        # Diversity orders the feed, it does not empty it: when too few brands are live to
        # fill it, the tasks passed over follow, best first.
        picked.extend(passed_over[: k - len(picked)])
        chosen = [(ranked[n], float(score[order[n]])) for n in picked]
        if person.tier == "novice" and not self._onboarded(person):
            chosen = self._with_onboarding(chosen, slots, score, k)
        reasons = _Reasons(self, person, now_s, slots)
        items = [FeedItem(tasks[slot].id, value, reasons, slot) for slot, value in chosen]
        shown = np.array([slot for slot, _ in chosen], dtype=np.int64)
        model = self.model
        odds = model.log_odds(shown, person.id, model.label_columns(person))
        self._placed[person.id] = ([item.task_id for item in items], odds.tolist())
        return Feed(items)

    def _onboarded(self, person: PersonProfile) -> bool:
        """Whether the person has done (or holds) an onboarding task: one the index knows,
        or, as their profile says, one of a campaign that has ended."""
        if person.onboarded:
            return True
        slot_of = self.index.slot_of
        return any(
            self.is_novice[slot_of[task_id]]
            for task_id, times in self.index.done_by(person.id).items()
            if times > 0 and task_id in slot_of
        )

    def _with_onboarding(
        self, chosen: list[tuple[int, float]], slots: IntArray, score: FloatArray, k: int
    ) -> list[tuple[int, float]]:
        """A feed for a novice who has not done an onboarding task yet, with one open to
        them within its first ``novice_place`` places: the best-scored one, in place of
        what stood there, when the scores alone left none that high (however little it
        pays, it is how a newcomer starts)."""
        place = min(self.weights.novice_place, k)
        if place <= 0 or any(self.is_novice[slot] for slot, _ in chosen[:place]):
            return chosen
        onboarding = np.flatnonzero(self.is_novice[slots])
        if onboarding.size == 0:
            return chosen
        best = int(onboarding[np.argmax(score[onboarding])])
        entry = (int(slots[best]), float(score[best]))
        rest = [c for c in chosen if c[0] != entry[0]]
        at = min(place, len(rest) + 1) - 1
        return [*rest[:at], entry, *rest[at:]][:k]

    def _shown_to(self, person_id: str) -> dict[str, _Shown]:
        """The tasks of the last feed shown to the person, each with its place, what it
        competed with and its log-odds at the top (for learning). A feed is remembered
        once, when the caller says what was shown or at its first outcome."""
        placed = self._placed.pop(person_id, None)
        if placed is not None:
            self._remember(person_id, *placed)
        return self._shown.get(person_id, _NOTHING_SHOWN)

    def _remember(self, person_id: str, task_ids: list[str], odds: list[float]) -> None:
        attraction = self.model.placed(np.array(odds), np.arange(len(task_ids))).tolist()
        total = sum(attraction)
        self._shown[person_id] = {
            task_id: _Shown(n, total - pull, z)
            for n, (task_id, pull, z) in enumerate(zip(task_ids, attraction, odds, strict=True))
        }

    def shown_only(self, person_id: str, task_ids: list[str]) -> None:
        """Of the feed last placed for this person, only these were shown, in this order
        (the caller set the others aside): outcomes are learned against what was seen."""
        placed = self._placed.pop(person_id, None)
        if placed is None:
            # Already remembered (an outcome came first): trim what was remembered.
            shown = self._shown.get(person_id)
            if not shown or list(shown) == task_ids:
                return
            placed = (list(shown), [seen.log_odds for seen in shown.values()])
        if placed[0] != task_ids:
            odds = dict(zip(*placed, strict=True))
            kept = [t for t in task_ids if t in odds]
            placed = (kept, [odds[t] for t in kept])
        self._remember(person_id, *placed)

    def record(self, person_id: str, task_id: str, now_s: float, completed: bool) -> None:
        """The outcome of one shown task; unknown or removed tasks are ignored.

        Units and spend count at once. The completion model learns the tasks of one feed
        together (one step per feed, see ``CompletionModel.learn_slate``): once every task
        shown has its outcome, or when the person asks for a feed again."""
        slot = self.index.slot_of.get(task_id)
        if slot is None:
            return
        self._advance(now_s)
        if completed:
            self.index.count_completion(person_id, task_id)
            self.pacer.spent(slot, 1.0 / max(int(self.index.quantity[slot]), 1))
            self._units_moved(slot)
            person = self._people.get(person_id)
            self.fairness.completed(None if person is None else person.tier)
        self._outcome(person_id, slot, task_id, completed)

    def declined(self, person_id: str, task_ids: Iterable[str], now_s: float) -> None:
        """Shown tasks the person did not take (they asked for a feed again): the same as
        ``record`` of each with ``completed`` false, in one call."""
        self._advance(now_s)
        slot_of = self.index.slot_of
        task_ids = list(task_ids)
        shown = self._shown_to(person_id)
        if person_id not in self._outcomes and all(t in shown for t in task_ids):
            # The usual case, the rest of the last feed passed over together: what
            # ``_outcome`` would do task by task, at once.
            outcomes = {t: False for t in task_ids if t in slot_of}
            if outcomes:
                self._outcomes[person_id] = outcomes
                if len(outcomes) == len(shown):
                    self._learn_outcomes(person_id)
            return
        for task_id in task_ids:
            slot = slot_of.get(task_id)
            if slot is not None:
                self._outcome(person_id, slot, task_id, False)

    def _outcome(self, person_id: str, slot: int, task_id: str, completed: bool) -> None:
        shown = self._shown_to(person_id)
        if task_id not in shown:
            # Not from this process's last feed for them (a claim seen in the database).
            person = self._people.get(person_id) or PersonProfile(id=person_id)
            self.model.learn(slot, person, 0, completed)
            return
        outcomes = self._outcomes.setdefault(person_id, {})
        if task_id in outcomes:
            self._learn_outcomes(person_id)
            outcomes = self._outcomes.setdefault(person_id, {})
        outcomes[task_id] = completed
        if len(outcomes) == len(shown):
            self._learn_outcomes(person_id)

    def _learn_outcomes(self, person_id: str) -> None:
        outcomes = self._outcomes.pop(person_id, None)
        if not outcomes:
            return
        shown = self._shown_to(person_id)
        person = self._people.get(person_id) or PersonProfile(id=person_id)
        slots, places, done, competition = [], [], [], []
        for task_id, completed in outcomes.items():
            slot = self.index.slot_of.get(task_id)
            if slot is None:
                continue
            seen = shown.get(task_id, _UNSEEN)
            slots.append(slot)
            places.append(seen.place)
            done.append(float(completed))
            competition.append(seen.competition)
        if slots:
            self.model.learn_slate(
                np.array(slots), person, np.array(places), np.array(done), np.array(competition)
            )

    def train(self, exposures: Iterable[Exposure]) -> None:
        """Learn from past exposures (the exposure log of earlier days) without counting
        their completions against today's units or limits."""
        visit: list[tuple[int, Exposure]] = []
        for exposure in exposures:
            # The exposures of one feed come together, places counting up from the top.
            if visit and (
                exposure.position <= visit[-1][1].position
                or exposure.person.id != visit[-1][1].person.id
            ):
                self._learn_visit(visit)
                visit = []
            slot = self.index.slot_of.get(exposure.task_id)
            if slot is not None and all(slot != seen for seen, _ in visit):
                visit.append((slot, exposure))
        if visit:
            self._learn_visit(visit)

    def _learn_visit(self, visit: list[tuple[int, Exposure]]) -> None:
        person = visit[0][1].person
        slots = np.array([slot for slot, _ in visit], dtype=np.int64)
        positions = np.array([e.position for _, e in visit], dtype=np.int64)
        attraction = self.model.attraction(slots, person, positions)
        self.model.learn_slate(
            slots,
            person,
            positions,
            np.array([float(e.completed) for _, e in visit]),
            float(attraction.sum()) - attraction,
        )

    def why_empty(self, person: PersonProfile, now_s: float) -> Reason:  # noqa: PLR0911
        """The first filter that left this person with nothing, as a reason."""
        index = self.index
        live = index.alive & index.runnable
        if not live.any():
            return Reason("no_live_tasks")
        matching = live & index.targeting_mask(person)
        if not matching.any():
            missing = _missing_fields(person)
            if missing:
                return Reason("profile_incomplete", {"fields": ", ".join(missing)})
            return Reason("no_matching_tasks")
        running = matching & (index.start_s <= now_s) & (index.end_s > now_s)
        if not running.any():
            if (matching & (index.start_s > now_s)).any():
                return Reason("not_started")
            return Reason("no_matching_tasks")
        open_to_them = running & index.personal_mask(person)
        if not open_to_them.any():
            undone = running & index.personal_mask(_without_hidden(person))
            return Reason("all_hidden" if undone.any() else "all_done")
        left = index.quantity - index.completed - index.reserved
        if not (open_to_them & (left > 0)).any():
            return Reason("sold_out")
        return Reason("paced")

    def waiting_for_pacing(self, person: PersonProfile, now_s: float) -> list[str]:
        """The tasks running and open to this person with units left: what a ``paced``
        empty feed waits for."""
        index = self.index
        waiting = index.alive & index.open_mask(now_s)
        slots = np.flatnonzero(waiting & index.targeting_mask(person) & index.personal_mask(person))
        return [task.id for slot in slots.tolist() if (task := index.tasks[slot]) is not None]

    def task_ids(self) -> Iterable[str]:
        return self.index.slot_of.keys()


def _missing_fields(person: PersonProfile) -> list[str]:
    missing = []
    if person.age is None:
        missing.append("age")
    if person.region is None:
        missing.append("region")
    if not person.interests:
        missing.append("interests")
    if person.tier is None:
        missing.append("tier")
    return missing


def _without_hidden(person: PersonProfile) -> PersonProfile:
    return PersonProfile(
        id=person.id,
        age=person.age,
        region=person.region,
        interests=person.interests,
        tier=person.tier,
        onboarded=person.onboarded,
    )


class _Shown(NamedTuple):
    place: int
    competition: float
    """The summed attraction of the other tasks shown with it."""
    log_odds: float
    """Its log-odds alone at the top when it was placed."""


_UNSEEN = _Shown(0, 0.0, 0.0)
_NOTHING_SHOWN: dict[str, _Shown] = {}


@dataclass
class _OpenSlots:
    mask: BoolArray
    since_s: float
    until_s: float
    """The next moment a window opens or closes: the mask holds until then."""
    planned_s: float
    """The pacing plans it was computed with."""


class _Reasons:
    """The reason line of each item of one feed (what several need is worked out once)."""

    def __init__(
        self, dispatcher: Dispatcher, person: PersonProfile, now_s: float, slots: IntArray
    ) -> None:
        self.dispatcher = dispatcher
        self.person = person
        self.now_s = now_s
        self.slots = slots
        self._interests: list[tuple[str, int]] | None = None
        self._every_interest: list[int] = []
        self._median_reward: float | None = None

    def of(self, slot: int) -> Reason:  # noqa: PLR0911 - one return per reason, in order of precedence
        person, now_s = self.person, self.now_s
        task = self.dispatcher.index.task(slot)
        targeting = task.targeting
        if task.is_novice and person.tier == "novice":
            return Reason("novice_task")
        if (
            math.isfinite(task.start_s)
            and 0 <= now_s - task.start_s < self.dispatcher.weights.new_within_s
        ):
            return Reason("new_this_hour", {"minutes": int((now_s - task.start_s) // 60)})
        shared = targeting.interests & person.interests
        if task.category in person.interests:
            shared = shared | {task.category}
        if shared:
            return Reason("interest_match", {"interest": min(shared)})
        learned = self._learned_interest(slot)
        if learned is not None:
            # Not "matches your interest": the brand did not ask for it, people like them
            # take it (a person reads "matches" as the brand's targeting).
            return Reason("interest_popular", {"interest": learned})
        if targeting.regions and person.region in targeting.regions:
            return Reason("region_match", {"region": person.region or ""})
        if targeting.tiers and person.tier in targeting.tiers and len(targeting.tiers) < len(TIERS):
            return Reason("tier_task", {"tier": person.tier or ""})
        if task.is_quality:
            return Reason("quality_task")
        if task.reward_fen >= GOOD_REWARD_OVER_MEDIAN * self._median() > 0:
            return Reason("good_reward", {"reward_fen": task.reward_fen})
        return Reason("recommended")

    def _learned_interest(self, slot: int) -> str | None:
        """The person's interest whose people take the task more than people of the other
        interests shown it do, by ``LEARNED_INTEREST_LIFT`` in log-odds over their mean.
        Against the others, not zero: a task every interest takes alike has lifts above
        zero for all of them when its own rate was set too low, and saying "often taken by
        people into 数码" of it would be saying it to everyone."""
        model = self.dispatcher.model
        if self._interests is None:
            self._interests = []
            for interest in sorted(self.person.interests):
                column = model.labels.find(f"{INTEREST}{interest}")
                if column is not None:
                    self._interests.append((interest, column))
            self._every_interest = model.labels.starting_with(INTEREST)
        if not self._interests:
            return None
        lifts = {
            column: model.label_lift(slot, column)
            for column in self._every_interest
            if model.seen_by(slot, column)
        }
        if len(lifts) < MIN_INTERESTS_COMPARED:
            return None
        total = sum(lifts.values())
        best: tuple[float, str] | None = None
        for interest, column in self._interests:
            lift = lifts.get(column)
            if lift is None:
                continue
            others = (total - lift) / (len(lifts) - 1)
            if lift - others <= LEARNED_INTEREST_LIFT:
                continue
            if best is None or lift > best[0]:
                best = (lift, interest)
        return None if best is None else best[1]

    def _median(self) -> float:
        """The median reward of the tasks open to the person (the upper one of the middle
        two when their number is even)."""
        if self._median_reward is None:
            rewards = self.dispatcher.reward_fen[self.slots]
            middle = rewards.shape[0] // 2
            self._median_reward = float(np.partition(rewards, middle)[middle])
        return self._median_reward
