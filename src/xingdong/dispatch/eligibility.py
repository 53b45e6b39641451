"""The in-memory index of live tasks: who may see each one, now.

Every task has a slot in a set of NumPy columns, so one person's eligibility over thousands
of tasks is a handful of vectorised comparisons. Tasks are added, replaced and removed one
at a time (the live feed mirrors the campaigns table into it); freed slots are reused.
Counts of what a person has already done live here too, because the per-person limit is
part of eligibility.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch.profiles import PersonProfile, TaskSpec

BoolArray = NDArray[np.bool_]
TargetingKey = tuple[int | None, str | None, frozenset[str], str | None]
MAX_CACHED_TARGETINGS = 20_000
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Vocabulary:
    """Labels (regions, interests, tiers) to column numbers, growing as labels appear."""

    def __init__(self) -> None:
        self._columns: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._columns)

    def add(self, label: str) -> int:
        column = self._columns.get(label)
        if column is None:
            column = self._columns[label] = len(self._columns)
        return column

    def find(self, label: str | None) -> int | None:
        return None if label is None else self._columns.get(label)

    def find_all(self, labels: Iterable[str]) -> list[int]:
        return [c for c in (self._columns.get(label) for label in labels) if c is not None]

    def starting_with(self, prefix: str) -> list[int]:
        """The columns of every label that starts with ``prefix`` (``interest:``)."""
        return [column for label, column in self._columns.items() if label.startswith(prefix)]


class LabelMatrix:
    """For each slot, which labels of one vocabulary its targeting lists."""

    def __init__(self, slots: int) -> None:
        self.vocabulary = Vocabulary()
        self.cells: BoolArray = np.zeros((slots, 8), dtype=np.bool_)
        self.anyone: BoolArray = np.ones(slots, dtype=np.bool_)

    def grow_slots(self, slots: int) -> None:
        cells = np.zeros((slots, self.cells.shape[1]), dtype=np.bool_)
        cells[: self.cells.shape[0]] = self.cells
        self.cells = cells
        anyone = np.ones(slots, dtype=np.bool_)
        anyone[: self.anyone.shape[0]] = self.anyone
        self.anyone = anyone

    def set(self, slot: int, labels: frozenset[str]) -> None:
        self.cells[slot] = False
        self.anyone[slot] = not labels
        for label in sorted(labels):
            column = self.vocabulary.add(label)
            if column >= self.cells.shape[1]:
                wider = np.zeros((self.cells.shape[0], 2 * column + 1), dtype=np.bool_)
                wider[:, : self.cells.shape[1]] = self.cells
                self.cells = wider
            self.cells[slot, column] = True

    def matches(self, labels: Iterable[str]) -> BoolArray:
        """Slots whose list is empty or shares a label with ``labels``."""
        columns = self.vocabulary.find_all(labels)
        if not columns:
            return self.anyone
        if len(columns) == 1:
            return self.anyone | self.cells[:, columns[0]]
        return self.anyone | self.cells[:, columns].any(axis=1)


class EligibilityIndex:
    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.tasks: list[TaskSpec | None] = [None] * capacity
        self.slot_of: dict[str, int] = {}
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self.alive: BoolArray = np.zeros(capacity, dtype=np.bool_)
        self.runnable: BoolArray = np.zeros(capacity, dtype=np.bool_)
        self.start_s: FloatArray = np.zeros(capacity)
        self.end_s: FloatArray = np.zeros(capacity)
        self.age_min: FloatArray = np.full(capacity, -np.inf)
        self.age_max: FloatArray = np.full(capacity, np.inf)
        self.needs_age: BoolArray = np.zeros(capacity, dtype=np.bool_)
        self.quantity: IntArray = np.zeros(capacity, dtype=np.int64)
        self.completed: IntArray = np.zeros(capacity, dtype=np.int64)
        self.reserved: IntArray = np.zeros(capacity, dtype=np.int64)
        self.regions = LabelMatrix(capacity)
        self.interests = LabelMatrix(capacity)
        self.tiers = LabelMatrix(capacity)
        self._slots_of_brand: dict[str, set[int]] = defaultdict(set)
        self._done: dict[str, dict[str, int]] = defaultdict(dict)
        # Who a task is for changes only when tasks come or go, and many people share a
        # profile: their targeting masks are kept until then.
        self._targeted: dict[TargetingKey, BoolArray] = {}

    # --- the set of tasks -------------------------------------------------------------

    def _grow(self) -> None:
        old, new = self.capacity, self.capacity * 2

        def longer(array: NDArray[np.generic], fill: object) -> NDArray[np.generic]:
            grown = np.full(new, fill, dtype=array.dtype)
            grown[:old] = array
            return grown

        self.alive = longer(self.alive, False)  # type: ignore[assignment]
        self.runnable = longer(self.runnable, False)  # type: ignore[assignment]
        self.start_s = longer(self.start_s, 0.0)  # type: ignore[assignment]
        self.end_s = longer(self.end_s, 0.0)  # type: ignore[assignment]
        self.age_min = longer(self.age_min, -np.inf)  # type: ignore[assignment]
        self.age_max = longer(self.age_max, np.inf)  # type: ignore[assignment]
        self.needs_age = longer(self.needs_age, False)  # type: ignore[assignment]
        self.quantity = longer(self.quantity, 0)  # type: ignore[assignment]
        self.completed = longer(self.completed, 0)  # type: ignore[assignment]
        self.reserved = longer(self.reserved, 0)  # type: ignore[assignment]
        for matrix in (self.regions, self.interests, self.tiers):
            matrix.grow_slots(new)
        self.tasks.extend([None] * old)
        self._free = list(range(new - 1, old - 1, -1)) + self._free
        self.capacity = new

    def upsert(self, task: TaskSpec) -> int:
        """Add a task or replace its terms; its completions and reservations are kept."""
        self._targeted.clear()
        slot = self.slot_of.get(task.id)
        if slot is None:
            if not self._free:
                self._grow()
            slot = self._free.pop()
            self.slot_of[task.id] = slot
            self.completed[slot] = 0
            self.reserved[slot] = 0
        else:
            previous = self.tasks[slot]
            assert previous is not None
            self._slots_of_brand[previous.brand].discard(slot)
        self.tasks[slot] = task
        self._slots_of_brand[task.brand].add(slot)
        targeting = task.targeting
        self.alive[slot] = True
        self.runnable[slot] = task.can_ever_run
        self.start_s[slot] = task.start_s
        self.end_s[slot] = task.end_s
        self.age_min[slot] = -np.inf if targeting.age_min is None else targeting.age_min
        self.age_max[slot] = np.inf if targeting.age_max is None else targeting.age_max
        self.needs_age[slot] = targeting.age_min is not None or targeting.age_max is not None
        self.quantity[slot] = max(task.quantity, 0)
        self.regions.set(slot, targeting.regions)
        self.interests.set(slot, targeting.interests)
        self.tiers.set(slot, targeting.tiers)
        return slot

    def remove(self, task_id: str) -> int | None:
        slot = self.slot_of.pop(task_id, None)
        if slot is None:
            return None
        self._targeted.clear()
        task = self.tasks[slot]
        assert task is not None
        self._slots_of_brand[task.brand].discard(slot)
        self.tasks[slot] = None
        self.alive[slot] = False
        self.runnable[slot] = False
        self._free.append(slot)
        return slot

    def task(self, slot: int) -> TaskSpec:
        task = self.tasks[slot]
        assert task is not None
        return task

    # --- units and per-person counts --------------------------------------------------

    def set_progress(self, task_id: str, *, completed: int, reserved: int = 0) -> None:
        """Mirror the database: completions so far and units held by open claims."""
        slot = self.slot_of[task_id]
        self.completed[slot] = completed
        self.reserved[slot] = reserved

    def units_left(self, slot: int) -> int:
        return int(self.quantity[slot] - self.completed[slot] - self.reserved[slot])

    def count_completion(self, person_id: str, task_id: str) -> None:
        done = self._done[person_id]
        done[task_id] = done.get(task_id, 0) + 1
        slot = self.slot_of.get(task_id)
        if slot is not None:
            self.completed[slot] += 1

    def set_all_done(self, person_id: str, taken: Mapping[str, int]) -> None:
        """Mirror the database for all of a person's tasks at once: a task missing from
        ``taken`` is one they no longer hold (a claim given up or run out), so it is
        theirs to take again."""
        self._done[person_id] = dict(taken)

    def done_by(self, person_id: str) -> dict[str, int]:
        return self._done.get(person_id, {})

    # --- eligibility ------------------------------------------------------------------

    def targeting_mask(self, person: PersonProfile) -> BoolArray:
        """Slots whose targeting the person matches, whatever the time or units left
        (read-only: shared by everyone with the same age, region, interests and tier)."""
        key = (person.age, person.region, person.interests, person.tier)
        mask = self._targeted.get(key)
        if mask is None:
            if len(self._targeted) >= MAX_CACHED_TARGETINGS:
                self._targeted.clear()
            mask = self._targeted[key] = self._match_targeting(person)
            mask.flags.writeable = False
        return mask

    def _match_targeting(self, person: PersonProfile) -> BoolArray:
        if person.age is None:
            mask = ~self.needs_age
        else:
            mask = (self.age_min <= person.age) & (self.age_max >= person.age)
        mask &= self.regions.matches(() if person.region is None else (person.region,))
        mask &= self.interests.matches(person.interests)
        mask &= self.tiers.matches(() if person.tier is None else (person.tier,))
        return mask

    def open_mask(self, now_s: float, slots: IntArray | slice = slice(None)) -> BoolArray:
        """Whether each slot (of ``slots``, all by default) is inside its window, with
        units left, and can run at all."""
        left = self.quantity[slots] - self.completed[slots] - self.reserved[slots]
        mask: BoolArray = (
            self.runnable[slots]
            & (self.start_s[slots] <= now_s)
            & (self.end_s[slots] > now_s)
            & (left > 0)
        )
        return mask

    def next_change_s(self, now_s: float) -> float:
        """The next moment after ``now_s`` a live task's window opens or closes."""
        starts = self.start_s.min(initial=np.inf, where=self.alive & (self.start_s > now_s))
        ends = self.end_s.min(initial=np.inf, where=self.alive & (self.end_s > now_s))
        return float(min(starts, ends))

    def excluded_slots(self, person: PersonProfile) -> list[int]:
        """Slots this person reached the limit of, or hid (task or brand)."""
        excluded = []
        for task_id, times in self.done_by(person.id).items():
            slot = self.slot_of.get(task_id)
            if slot is not None and times >= self.task(slot).per_person_limit:
                excluded.append(slot)
        for task_id in person.hidden_tasks:
            slot = self.slot_of.get(task_id)
            if slot is not None:
                excluded.append(slot)
        for brand in person.hidden_brands:
            excluded.extend(self._slots_of_brand.get(brand, ()))
        return excluded

    def personal_mask(self, person: PersonProfile) -> BoolArray:
        """False for slots this person reached the limit of, or hid (task or brand)."""
        mask = np.ones(self.capacity, dtype=np.bool_)
        mask[self.excluded_slots(person)] = False
        return mask

    def eligible(self, person: PersonProfile, open_now: BoolArray) -> BoolArray:
        """Slots this person may be shown, of those open now (``open_now``: ``open_mask``
        at this moment, with whatever else holds tasks back)."""
        mask = self.targeting_mask(person) & open_now
        excluded = self.excluded_slots(person)
        if excluded:
            mask[excluded] = False
        return mask
