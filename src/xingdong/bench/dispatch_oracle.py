"""The feed with the simulated people's true preferences: what learning could at best give.

The workload's hidden preferences have exactly the completion model's form (a task's own
rate, lifts of the person's labels on each task, the person's leaning per task type, the
place in the feed), so least squares over every person and task recovers weights under
which the model predicts each attraction exactly. The ``oracle`` policy is the feed run
with those weights, learning and exploration switched off. It is a reference line in
``xingdong bench dispatch``, not a baseline: between it and the optimum is what the
allocation cannot get without seeing the future (and what pacing costs); between the feed
and it is what the model has not learned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse
from numpy.typing import NDArray
from scipy.sparse.linalg import lsqr

from xingdong.bench.dispatch_workload import Instance
from xingdong.dispatch.completion import person_labels
from xingdong.dispatch.feed import Dispatcher
from xingdong.dispatch.profiles import PersonProfile

FloatArray = NDArray[np.float64]
EXACT_WITHIN = 1e-6
"""Largest error (log-odds) the fitted weights may leave on any person and task."""


@dataclass(frozen=True)
class TruePreferences:
    task_ids: list[str]
    task_rate: FloatArray
    """Per task, its log-odds for someone with no labels and no leaning."""
    labels: list[str]
    label_lift: FloatArray
    """labels * tasks: what each label adds to each task's log-odds."""
    person_ids: list[str]
    types: list[str]
    leaning: FloatArray
    """people * types: each person's leaning per task type."""
    position_bias: tuple[float, ...]

    @classmethod
    def of(cls, instance: Instance) -> TruePreferences:
        people = [PersonProfile.from_dict(p) for p in instance.people]
        labels = sorted({label for person in people for label in person_labels(person)})
        types = sorted({str(task["type"]) for task in instance.tasks})
        label_column = {label: n for n, label in enumerate(labels)}
        tasks, n_labels = len(instance.tasks), len(labels)
        type_of = np.array([types.index(str(t["type"])) for t in instance.tasks])
        # One row per (person, task); columns: task rates, label lifts (label-major),
        # then leanings (person-major).
        rows: list[NDArray[np.int64]] = []
        columns: list[NDArray[np.int64]] = []
        task_range = np.arange(tasks)
        for p, person in enumerate(people):
            row = p * tasks + task_range
            rows.append(row)
            columns.append(task_range)
            for label in person_labels(person):
                rows.append(row)
                columns.append(tasks + label_column[label] * tasks + task_range)
            rows.append(row)
            columns.append(tasks + n_labels * tasks + p * len(types) + type_of)
        row_index, column_index = np.concatenate(rows), np.concatenate(columns)
        design = scipy.sparse.csr_matrix(
            (np.ones(row_index.shape[0]), (row_index, column_index)),
            shape=(len(people) * tasks, tasks + n_labels * tasks + len(people) * len(types)),
        )
        target = np.log(instance.attraction).ravel()
        weights = lsqr(design, target, atol=1e-12, btol=1e-12, iter_lim=20_000)[0]
        error = float(np.abs(design @ weights - target).max())
        if error > EXACT_WITHIN:
            raise ValueError(
                f"the workload's preferences do not have the completion model's form "
                f"(least squares leaves {error:.2g} in log-odds)"
            )
        lifts_end = tasks + n_labels * tasks
        return cls(
            task_ids=[str(t["id"]) for t in instance.tasks],
            task_rate=weights[:tasks],
            labels=labels,
            label_lift=weights[tasks:lifts_end].reshape(n_labels, tasks),
            person_ids=[p.id for p in people],
            types=types,
            leaning=weights[lifts_end:].reshape(len(people), len(types)),
            position_bias=tuple(instance.position_bias),
        )

    def install(self, dispatcher: Dispatcher, people: list[PersonProfile]) -> None:
        """Give ``dispatcher``'s model these weights, and stop it learning or exploring."""
        model = dispatcher.model
        for person in people:
            model.label_columns(person, learn=True)
        slots = np.array([dispatcher.index.slot_of[t] for t in self.task_ids], dtype=np.int64)
        type_columns = np.array([model.type_column(kind) for kind in self.types])
        model.type_mean[:] = 0.0
        model.type_label_mean[:] = 0.0
        model.category_label_mean[:] = 0.0
        model.match[0] = 0.0
        model.task_mean[slots] = self.task_rate
        for row, label in enumerate(self.labels):
            column = model.labels.add(label)
            model.label_task_mean[column, slots] = self.label_lift[row]
        for row, person_id in enumerate(self.person_ids):
            model.set_leaning(person_id, type_columns, self.leaning[row])
        model.position_mean[: len(self.position_bias)] = np.log(self.position_bias)
        dispatcher.set_weights(replace(dispatcher.weights, learning_rate=0.0, explore=0.0))
