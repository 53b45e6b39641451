"""The completion model: the chance a person completes a task if it is shown to them.

A logistic model learned online, one exposure at a time. Its log-odds add up:

- the task type's rate (starting from the prior in the weights, then learned from all
  tasks of that type), plus the task's own offset from it;
- for each label of the person (interests, region, tier), a learned lift per task type
  and per task (so "people into 母婴 complete this task" is learned from outcomes, even
  when the task does not target them);
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

from xingdong.dispatch.arrays import grown, logit, sigmoid, widened
from xingdong.dispatch.eligibility import Vocabulary
from xingdong.dispatch.profiles import PersonProfile
from xingdong.dispatch.weights import DispatchWeights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LABEL_PRECISION = 1.0
PERSON_PRECISION = 6.0
POSITION_PRECISION = 20.0
MAX_POSITIONS = 32
SHARES = {
    "task": 0.4,
    "task_label": 0.3,
    "type_label": 0.1,
    "type": 0.05,
    "person": 0.1,
    "position": 0.05,
}
SHARES_WITHOUT_LABELS = {"task": 0.6, "type": 0.1, "person": 0.2, "position": 0.1}
SHARES_WITHOUT_LABELS |= {"task_label": 0.0, "type_label": 0.0}


def person_labels(person: PersonProfile) -> list[str]:
    labels = [f"interest:{i}" for i in sorted(person.interests)]
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
        self.type_label_mean: FloatArray = np.zeros((16, 16))
        self.type_label_precision: FloatArray = np.full((16, 16), LABEL_PRECISION)
        self.task_label_mean: FloatArray = np.zeros((capacity, 16))
        self.task_label_precision: FloatArray = np.full((capacity, 16), LABEL_PRECISION)
        self.position_mean = np.zeros(MAX_POSITIONS)
        self.position_precision = np.full(MAX_POSITIONS, POSITION_PRECISION)
        self._people: dict[str, _PersonBelief] = {}

    # --- tasks ------------------------------------------------------------------------

    def _type_column(self, task_type: str) -> int:
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

    def reset_task(self, slot: int, task_type: str, capacity: int) -> None:
        """A new task in ``slot``: it starts from its type's learned rate."""
        if self.slot_type.shape[0] < capacity:
            self.slot_type = grown(self.slot_type, capacity, 0)
            self.task_mean = grown(self.task_mean, capacity, 0.0)
            self.task_precision = grown(self.task_precision, capacity, 1.0)
            self.task_label_mean = grown(self.task_label_mean, capacity, 0.0)
            self.task_label_precision = grown(self.task_label_precision, capacity, LABEL_PRECISION)
        column = self._type_column(task_type)
        prior = sigmoid(np.array([self.type_mean[column]]))[0]
        self.slot_type[slot] = column
        self.task_mean[slot] = 0.0
        self.task_precision[slot] = self.weights.prior_strength * prior * (1 - prior)
        self.task_label_mean[slot] = 0.0
        self.task_label_precision[slot] = LABEL_PRECISION

    def retype(self, slot: int, task_type: str) -> None:
        self.slot_type[slot] = self._type_column(task_type)

    # --- people -----------------------------------------------------------------------

    def label_columns(self, person: PersonProfile, *, learn: bool = False) -> list[int]:
        names = person_labels(person)
        if not learn:
            return self.labels.find_all(names)
        columns = [self.labels.add(name) for name in names]
        if columns and max(columns) >= self.task_label_mean.shape[1]:
            need = max(columns) + 1
            self.type_label_mean = widened(self.type_label_mean, need)
            self.task_label_mean = widened(self.task_label_mean, need)
            old = self.type_label_precision.shape[1]
            self.type_label_precision = widened(self.type_label_precision, need)
            self.type_label_precision[:, old:] = LABEL_PRECISION
            old = self.task_label_precision.shape[1]
            self.task_label_precision = widened(self.task_label_precision, need)
            self.task_label_precision[:, old:] = LABEL_PRECISION
        return columns

    def _person(self, person_id: str) -> _PersonBelief:
        belief = self._people.get(person_id)
        types = self.type_mean.shape[0]
        if belief is None:
            belief = self._people[person_id] = _PersonBelief(types)
        elif belief.mean.shape[0] < types:
            belief.mean = grown(belief.mean, types, 0.0)
            belief.precision = grown(belief.precision, types, PERSON_PRECISION)
        return belief

    # --- prediction -------------------------------------------------------------------

    def log_odds(self, slots: IntArray, person_id: str, columns: list[int]) -> FloatArray:
        """Log-odds of completion at the top of the feed, for each slot."""
        types = self.slot_type[slots]
        z = self.type_mean[types] + self.task_mean[slots]
        fit = self.weights.fit
        if fit and columns:
            # Per type first (a handful of rows), then one gather per label: cheaper than
            # gathering a (tasks x labels) block.
            per_type = self.type_label_mean[:, columns].sum(axis=1)
            belief = self._people.get(person_id)
            if belief is not None:
                known = min(belief.mean.shape[0], per_type.shape[0])
                per_type[:known] += belief.mean[:known]
            lift = per_type[types]
            for column in columns:
                lift += self.task_label_mean[slots, column]
            z += fit * lift
        return z

    def position_weights(self, places: int) -> FloatArray:
        """How much each of the first ``places`` places is worth against the top, as
        learned (the odds ratio of completing a task there), never rising down the feed."""
        shift = self.position_mean[: min(max(places, 1), MAX_POSITIONS)].copy()
        shift[0] = 0.0
        if places > MAX_POSITIONS:
            shift = np.concatenate([shift, np.full(places - MAX_POSITIONS, shift[-1])])
        weights: FloatArray = np.minimum.accumulate(np.exp(np.minimum(shift, 0.0)))
        return weights

    def optimism(self, slots: IntArray) -> FloatArray:
        return self.weights.explore / np.sqrt(self.task_precision[slots])

    def exposures_weight(self, slot: int) -> float:
        return float(self.task_precision[slot])

    def label_lift(self, slot: int, column: int) -> float:
        return float(
            self.task_label_mean[slot, column] + self.type_label_mean[self.slot_type[slot], column]
        )

    # --- learning ---------------------------------------------------------------------

    def attraction(self, slots: IntArray, person: PersonProfile, positions: IntArray) -> FloatArray:
        """Each shown task's odds of being chosen over nothing, at its place in the feed."""
        z = self.log_odds(slots, person.id, self.label_columns(person))
        z += self.position_mean[np.minimum(positions, MAX_POSITIONS - 1)]
        return np.exp(np.minimum(z, 30.0))

    def learn(
        self,
        slot: int,
        person: PersonProfile,
        position: int,
        completed: bool,
        *,
        competition: float = 0.0,
    ) -> None:
        """One exposure's outcome (the task was shown at ``position``, 0 = top).

        ``competition`` is the summed attraction of the other tasks shown with it. People
        choose one task of a feed (a multinomial logit): the chance of this one is
        a / (1 + a + competition), a logistic in log a - log(1 + competition), so with that
        offset each exposure's step is the gradient of the choice model itself, and the
        log-odds learned are those of the task alone at the top, whatever it was shown
        with."""
        columns = self.label_columns(person, learn=True)
        belief = self._person(person.id)
        position = min(position, MAX_POSITIONS - 1)
        kind = int(self.slot_type[slot])
        z = float(self.type_mean[kind] + self.task_mean[slot] + self.position_mean[position])
        if columns:
            z += float(self.type_label_mean[kind, columns].sum())
            z += float(self.task_label_mean[slot, columns].sum())
        z += float(belief.mean[kind]) - math.log1p(max(competition, 0.0))
        p = 1.0 / (1.0 + math.exp(-z))
        error = (float(completed) - p) * self.weights.learning_rate
        curvature = max(p * (1.0 - p), 1e-3)
        # The groups of weights share one error, so that together they do not overshoot
        # (a diagonal belief cannot see that they explain the same thing): most goes to
        # what tells tasks and people apart, the task's own rate and its label lifts.
        share = SHARES if columns else SHARES_WITHOUT_LABELS

        self.task_precision[slot] += curvature
        self.task_mean[slot] += share["task"] * error / self.task_precision[slot]
        self.type_precision[kind] += curvature
        self.type_mean[kind] += share["type"] * error / self.type_precision[kind]
        belief.precision[kind] += curvature
        belief.mean[kind] += share["person"] * error / belief.precision[kind]
        if position > 0:
            self.position_precision[position] += curvature
            self.position_mean[position] += (
                share["position"] * error / self.position_precision[position]
            )
        if columns:
            self.type_label_precision[kind, columns] += curvature
            self.type_label_mean[kind, columns] += (
                share["type_label"] * error / self.type_label_precision[kind, columns]
            )
            self.task_label_precision[slot, columns] += curvature
            self.task_label_mean[slot, columns] += (
                share["task_label"] * error / self.task_label_precision[slot, columns]
            )
