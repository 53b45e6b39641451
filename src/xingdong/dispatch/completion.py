"""The completion model: the chance a person completes a task if it is shown to them.

A logistic model learned online, one exposure at a time. Its log-odds add up:

- the task type's rate (starting from the prior in the weights, then learned from all
  tasks of that type), plus the task's own offset from it;
- for each label of the person (interests, region, tier), a learned lift per task type,
  per category (what the account, video or product is about, when the brand said) and
  per task (so "people into 母婴 complete this task" is learned from outcomes, even when
  the task does not target them; a new task of a known category starts from what its
  category has taught);
- one lift shared by every category that is among the person's interests ("the task is
  about something I like"), learned from all such showings together, so that a category
  little shown yet gains from what the others taught;
- the person's own leaning per task type;
- an estimated effect of the position in the feed (predictions are for the top).

Each weight keeps a Gaussian belief (mean and precision, updated by the diagonal Laplace
rule), which gives both a cautious step size and the uncertainty behind exploration: a
new task is ranked with an optimism of ``explore / √precision`` in its log-odds.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from xingdong.dispatch import kernels
from xingdong.dispatch.arrays import grown, logit, sigmoid, widened
from xingdong.dispatch.eligibility import Vocabulary
from xingdong.dispatch.profiles import PersonProfile
from xingdong.dispatch.weights import DispatchWeights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Columns = IntArray | list[int]
"""Label columns, as ``label_columns`` gives them (or a list)."""

LABEL_PRECISION = 1.0
PERSON_PRECISION = 6.0
POSITION_PRECISION = 20.0
MAX_POSITIONS = 32
MIN_PRECISION = 1e-6
MAX_CACHED_LABEL_SETS = 20_000
NO_LEANING = np.zeros(0)
NO_CATEGORY = -1
INTEREST = "interest:"
"""The prefix of an interest's label (``interest:母婴``)."""
REBASE_EVERY = 4_096
"""Slates learned between full recomputations of the kept per-task log-odds (which are
otherwise moved step by step, and would drift by rounding)."""
SHARES = {
    "task": 0.4,
    "task_label": 0.05,
    "type_label": 0.1,
    "type": 0.05,
    "person": 0.1,
    "position": 0.05,
    "category_label": 0.25,
    "match": 1.0,
}
"""How one exposure's error is shared among the groups of weights. A task without a
category gives the category's share to its own label lifts (0.3 then, as before there
were categories): what people like about it has only its own exposures to be learned
from. Where the category is one of the person's interests, the lift shared by every such
match takes a whole step of its own beside them: it is one weight that all those showings
teach, so its precision soon keeps each step small, and a share like the others' would
leave it at a fraction of what the history says (a third or less, on the benchmark's
days)."""
SHARES_WITHOUT_LABELS = {"task": 0.6, "type": 0.1, "person": 0.2, "position": 0.1}
SHARES_WITHOUT_LABELS |= {"task_label": 0.0, "type_label": 0.0, "category_label": 0.0}
SHARES_WITHOUT_LABELS |= {"match": 0.0}
_SHARE_ORDER = (
    *("task", "task_label", "type_label", "type", "person", "position"),
    *("category_label", "match"),
)
SHARE_STEPS = np.array([SHARES[name] for name in _SHARE_ORDER])
SHARE_STEPS_WITHOUT_LABELS = np.array([SHARES_WITHOUT_LABELS[name] for name in _SHARE_ORDER])


def person_labels(person: PersonProfile) -> list[str]:
    labels = [f"{INTEREST}{i}" for i in sorted(person.interests)]
    if person.region is not None:
        labels.append(f"region:{person.region}")
    if person.tier is not None:
        labels.append(f"tier:{person.tier}")
    return labels


class _PersonBelief:
    __slots__ = ("mean", "precision")

    def __init__(self, types: int) -> None:
        self.mean = np.zeros(types)
        self.precision = np.full(types, PERSON_PRECISION)


class CompletionModel:
    def __init__(self, weights: DispatchWeights, capacity: int = 256) -> None:
        self.weights = weights
        self.types = Vocabulary()
        self.labels = Vocabulary()
        self.type_mean = np.zeros(16)
        self.type_precision = np.zeros(16)
        self.slot_type: IntArray = np.zeros(capacity, dtype=np.int64)
        self.task_mean: FloatArray = np.zeros(capacity)
        self.task_precision: FloatArray = np.ones(capacity)
        self.task_spread: FloatArray = np.ones(capacity)
        """1/√precision of each task's own rate, kept with it for the exploration bonus."""
        self.task_base: FloatArray = np.zeros(capacity)
        """Each task's log-odds before anything about the person: its type's rate plus its
        own offset (kept up to date as they are learned, so a feed gathers it once)."""
        self.task_bold: FloatArray = np.zeros(capacity)
        """``task_base`` plus the exploration bonus, what the feed ranks by."""
        self._slates_learned = 0
        self.type_label_mean: FloatArray = np.zeros((16, 16))
        self.type_label_precision: FloatArray = np.full((16, 16), LABEL_PRECISION)
        self.categories = Vocabulary()
        self.slot_category: IntArray = np.full(capacity, NO_CATEGORY, dtype=np.int64)
        self.category_label_mean: FloatArray = np.zeros((16, 16))
        self.category_label_precision: FloatArray = np.full((16, 16), LABEL_PRECISION)
        self.category_interest: IntArray = np.full(16, NO_CATEGORY, dtype=np.int64)
        """Per category, the label column of the interest of the same name (or -1)."""
        self.match: FloatArray = np.array([0.0, LABEL_PRECISION])
        """The shared lift of a category among the person's interests: mean, precision."""
        # Label by task (one row per label): a person's few labels are a few contiguous
        # rows, which sum far faster than the same cells gathered from columns.
        self.label_task_mean: FloatArray = np.zeros((16, capacity))
        self.label_task_precision: FloatArray = np.full((16, capacity), LABEL_PRECISION)
        self.position_mean = np.zeros(MAX_POSITIONS)
        self.position_precision = np.full(MAX_POSITIONS, POSITION_PRECISION)
        self._people: dict[str, _PersonBelief] = {}
        self._columns: dict[tuple[frozenset[str], str | None, str | None], IntArray] = {}
        self._columns_vocabulary = 0

    def set_weights(self, weights: DispatchWeights) -> None:
        self.weights = weights
        self.rebase()

    def rebase(self, slots: IntArray | slice = slice(None)) -> None:
        """Recompute ``task_base`` and ``task_bold`` from what they are made of (also
        after setting learned weights by hand)."""
        self.task_base[slots] = self.type_mean[self.slot_type[slots]] + self.task_mean[slots]
        bonus = self.weights.explore * self.task_spread[slots]
        self.task_bold[slots] = self.task_base[slots] + bonus

    # --- tasks ------------------------------------------------------------------------

    def type_column(self, task_type: str) -> int:
        """The column of a task type (added, with its prior, if new)."""
        column = self.types.find(task_type)
        if column is not None:
            return column
        column = self.types.add(task_type)
        if column >= self.type_mean.shape[0]:
            size = 2 * column + 1
            self.type_mean = grown(self.type_mean, size, 0.0)
            self.type_precision = grown(self.type_precision, size, 0.0)
            self.type_label_mean = grown(self.type_label_mean, size, 0.0)
            self.type_label_precision = grown(self.type_label_precision, size, LABEL_PRECISION)
        prior = self.weights.type_priors.get(task_type, self.weights.default_prior)
        self.type_mean[column] = logit(prior)
        self.type_precision[column] = self.weights.prior_strength * prior * (1 - prior)
        return column

    def category_column(self, category: str | None) -> int:
        """The row of a category (added if new; ``NO_CATEGORY`` for None)."""
        if category is None:
            return NO_CATEGORY
        row = self.categories.add(category)
        if row >= self.category_label_mean.shape[0]:
            size = 2 * row + 1
            self.category_label_mean = grown(self.category_label_mean, size, 0.0)
            self.category_label_precision = grown(
                self.category_label_precision, size, LABEL_PRECISION
            )
            self.category_interest = grown(self.category_interest, size, NO_CATEGORY)
        interest = self.labels.find(f"{INTEREST}{category}")
        self.category_interest[row] = NO_CATEGORY if interest is None else interest
        return row

    def reset_task(
        self, slot: int, task_type: str, capacity: int, category: str | None = None
    ) -> None:
        """A new task in ``slot``: it starts from its type's learned rate (and its
        category's lifts)."""
        if self.slot_type.shape[0] < capacity:
            self.slot_type = grown(self.slot_type, capacity, 0)
            self.slot_category = grown(self.slot_category, capacity, NO_CATEGORY)
            self.task_mean = grown(self.task_mean, capacity, 0.0)
            self.task_precision = grown(self.task_precision, capacity, 1.0)
            self.task_spread = grown(self.task_spread, capacity, 1.0)
            self.task_base = grown(self.task_base, capacity, 0.0)
            self.task_bold = grown(self.task_bold, capacity, 0.0)
        if self.label_task_mean.shape[1] < capacity:
            self.label_task_mean = widened(self.label_task_mean, capacity)
            self.label_task_precision = widened(
                self.label_task_precision, capacity, LABEL_PRECISION
            )
        column = self.type_column(task_type)
        prior = sigmoid(np.array([self.type_mean[column]]))[0]
        self.slot_type[slot] = column
        self.slot_category[slot] = self.category_column(category)
        self.task_mean[slot] = 0.0
        # Floored: a type's rate learned to near 0 or 1 must not leave a task no precision.
        self.task_precision[slot] = max(
            self.weights.prior_strength * prior * (1 - prior), MIN_PRECISION
        )
        self.task_spread[slot] = 1.0 / math.sqrt(self.task_precision[slot])
        self.label_task_mean[:, slot] = 0.0
        self.label_task_precision[:, slot] = LABEL_PRECISION
        self.rebase(np.array([slot]))

    def retype(self, slot: int, task_type: str, category: str | None = None) -> None:
        self.slot_type[slot] = self.type_column(task_type)
        self.slot_category[slot] = self.category_column(category)
        self.rebase(np.array([slot]))

    # --- people -----------------------------------------------------------------------

    def label_columns(self, person: PersonProfile, *, learn: bool = False) -> IntArray:
        """The columns of the person's labels (``learn``: adding those not seen yet)."""
        # Many people share their labels; a label once known keeps its column, so a
        # cached answer only goes stale when the vocabulary grows.
        if self._columns_vocabulary != len(self.labels):
            self._columns.clear()
            self._columns_vocabulary = len(self.labels)
        key = (person.interests, person.region, person.tier)
        found = self._columns.get(key)
        if found is None:
            if len(self._columns) >= MAX_CACHED_LABEL_SETS:
                self._columns.clear()
            found = self._columns[key] = np.array(
                self.labels.find_all(person_labels(person)), dtype=np.int64
            )
        labelled = len(person.interests) + (person.region is not None) + (person.tier is not None)
        if not learn or found.shape[0] == labelled:
            return found
        columns = [self.labels.add(name) for name in person_labels(person)]
        for interest in person.interests:
            row = self.categories.find(interest)
            if row is not None:
                self.category_interest[row] = self.labels.add(f"{INTEREST}{interest}")
        if max(columns) >= self.label_task_mean.shape[0]:
            need = 2 * max(columns) + 1
            self.type_label_mean = widened(self.type_label_mean, need)
            self.type_label_precision = widened(self.type_label_precision, need, LABEL_PRECISION)
            self.category_label_mean = widened(self.category_label_mean, need)
            self.category_label_precision = widened(
                self.category_label_precision, need, LABEL_PRECISION
            )
            self.label_task_mean = grown(self.label_task_mean, need, 0.0)
            self.label_task_precision = grown(self.label_task_precision, need, LABEL_PRECISION)
        return np.array(columns, dtype=np.int64)

    def _person(self, person_id: str) -> _PersonBelief:
        belief = self._people.get(person_id)
        types = self.type_mean.shape[0]
        if belief is None:
            belief = self._people[person_id] = _PersonBelief(types)
        elif belief.mean.shape[0] < types:
            belief.mean = grown(belief.mean, types, 0.0)
            belief.precision = grown(belief.precision, types, PERSON_PRECISION)
        return belief

    def set_leaning(self, person_id: str, type_columns: IntArray, leaning: FloatArray) -> None:
        """Set a person's leaning for these types (weights known from elsewhere)."""
        self._person(person_id).mean[type_columns] = leaning

    # --- prediction -------------------------------------------------------------------

    def log_odds(self, slots: IntArray, person_id: str, columns: Columns) -> FloatArray:
        """Log-odds of completion at the top of the feed, for each slot."""
        return self._log_odds(self.task_base, slots, person_id, columns)

    def bold_log_odds(self, slots: IntArray, person_id: str, columns: Columns) -> FloatArray:
        """``log_odds`` with the exploration bonus of tasks little is known about."""
        return self._log_odds(self.task_bold, slots, person_id, columns)

    def _log_odds(
        self, base: FloatArray, slots: IntArray, person_id: str, columns: Columns
    ) -> FloatArray:
        out = np.empty(slots.shape[0])
        kernels.log_odds_into(
            out,
            base,
            slots,
            self.slot_type,
            self.type_label_mean,
            self.leaning(person_id),
            self.label_task_mean,
            np.asarray(columns, dtype=np.int64),
            self.weights.fit,
            self.slot_category,
            self.category_label_mean,
            self.category_interest,
            self.match,
        )
        return out

    def leaning(self, person_id: str) -> FloatArray:
        """The person's own leaning per type, as learned (empty for someone new)."""
        belief = self._people.get(person_id)
        return NO_LEANING if belief is None else belief.mean

    def position_weights(self, places: int) -> FloatArray:
        """How much each of the first ``places`` places is worth against the top, as
        learned (the odds ratio of completing a task there), never rising down the feed."""
        weights: FloatArray = kernels.place_weights(self.position_mean, max(places, 1))
        return weights

    def exposures_weight(self, slot: int) -> float:
        return float(self.task_precision[slot])

    def label_lift(self, slot: int, column: int) -> float:
        lift = (
            self.label_task_mean[column, slot] + self.type_label_mean[self.slot_type[slot], column]
        )
        category = self.slot_category[slot]
        if category != NO_CATEGORY:
            lift += self.category_label_mean[category, column]
            if self.category_interest[category] == column:
                lift += self.match[0]
        return float(lift)

    def seen_by(self, slot: int, column: int) -> bool:
        """Whether people with this label have been shown the task (and so taught its own
        lift for them)."""
        return bool(self.label_task_precision[column, slot] > LABEL_PRECISION)

    # --- learning ---------------------------------------------------------------------

    def attraction(self, slots: IntArray, person: PersonProfile, positions: IntArray) -> FloatArray:
        """Each shown task's odds of being chosen over nothing, at its place in the feed."""
        return self.placed(self.log_odds(slots, person.id, self.label_columns(person)), positions)

    def placed(self, log_odds: FloatArray, positions: IntArray) -> FloatArray:
        """Attractions of tasks with these log-odds at the top, shown at ``positions``."""
        z = log_odds + self.position_mean[np.minimum(positions, MAX_POSITIONS - 1)]
        return np.exp(np.minimum(z, kernels.MAX_LOG_ODDS))

    def learn(
        self,
        slot: int,
        person: PersonProfile,
        position: int,
        completed: bool,
        *,
        competition: float = 0.0,
    ) -> None:
        """One exposure's outcome (the task was shown at ``position``, 0 = top)."""
        self.learn_slate(
            np.array([slot]),
            person,
            np.array([position]),
            np.array([completed], dtype=np.float64),
            np.array([competition]),
        )

    def learn_slate(
        self,
        slots: IntArray,
        person: PersonProfile,
        positions: IntArray,
        completed: FloatArray,
        competition: FloatArray,
    ) -> None:
        """The outcomes of distinct tasks shown together to one person (``completed`` 1 or
        0 each, shown at ``positions``, 0 = top).

        ``competition`` is, per task, the summed attraction of the others shown with it.
        People choose one task of a feed (a multinomial logit): the chance of this one is
        a / (1 + a + competition), a logistic in log a - log(1 + competition), so with that
        offset each exposure's step is the gradient of the choice model itself, and the
        log-odds learned are those of the task alone at the top, whatever it was shown
        with. The slate is one step: every outcome is predicted with the weights as they
        were when it was shown, and weights shared by several of its tasks (the type's,
        the person's) take the sum of their steps."""
        columns = self.label_columns(person, learn=True)
        belief = self._person(person.id)
        # The groups of weights share one error, so that together they do not overshoot
        # (a diagonal belief cannot see that they explain the same thing): most goes to
        # what tells tasks and people apart, the task's own rate and its label lifts. The
        # lift of a category among the person's interests is the exception: it takes a
        # whole step beside them (see SHARES), as one weight every match teaches.
        moved = kernels.learn_slate_step(
            np.ascontiguousarray(slots, dtype=np.int64),
            np.minimum(positions, MAX_POSITIONS - 1).astype(np.int64),
            np.ascontiguousarray(completed, dtype=np.float64),
            np.ascontiguousarray(competition, dtype=np.float64),
            columns,
            SHARE_STEPS if columns.size else SHARE_STEPS_WITHOUT_LABELS,
            self.weights.learning_rate,
            self.slot_type,
            belief.mean,
            belief.precision,
            self.type_mean,
            self.type_precision,
            self.task_mean,
            self.task_precision,
            self.type_label_mean,
            self.type_label_precision,
            self.label_task_mean,
            self.label_task_precision,
            self.position_mean,
            self.position_precision,
            self.slot_category,
            self.category_label_mean,
            self.category_label_precision,
            self.category_interest,
            self.match,
        )
        self.task_spread[slots] = 1.0 / np.sqrt(self.task_precision[slots])
        # Every task of a type moves with it.
        if moved.any():
            shift = moved[self.slot_type]
            self.task_base += shift
            self.task_bold += shift
        self._slates_learned += 1
        if self._slates_learned % REBASE_EVERY == 0:
            self.rebase()
        else:
            self.rebase(slots)
