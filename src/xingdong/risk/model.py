"""The scoring model: logistic regression over the engine's signal vector, trained on
operators' verdicts. Before there are labels the rules' score stands in (see engine).

The model is kept as plain JSON (names, scaling, coefficients), so it can be read,
diffed and loaded without unpickling anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xingdong.risk.reasons import REAL_TIME

_TYPES = ("register", "claim", "submit", "withdraw")
_COUNTS = (
    "device_accounts",
    "ip_accounts",
    "cotarget_accounts",
    "submits_hour",
    "claims_hour",
    "registrations_ip_hour",
    "registration_burst",
    "payout_others",
)


def feature_names() -> list[str]:
    names = [f"type:{kind}" for kind in _TYPES]
    names += [f"reason:{code}" for code in sorted(REAL_TIME)]
    names += [f"log:{name}" for name in _COUNTS]
    names += [
        "claim_to_submit_log",
        "claim_to_submit_known",
        "straightness",
        "interval_cv",
        "trajectory_known",
        "near_distance",
        "near_known",
        "missing_signals",
    ]
    return names


def vectorise(kind: str, reasons: Sequence[str], features: dict[str, float]) -> list[float]:
    """The model's input for one decision, in the order of :func:`feature_names`."""
    vector = [1.0 if kind == t else 0.0 for t in _TYPES]
    stems = {code.split(":", 1)[0] for code in reasons}
    vector += [1.0 if code in stems else 0.0 for code in sorted(REAL_TIME)]
    vector += [math.log1p(features.get(name, 0.0)) for name in _COUNTS]
    took = features.get("claim_to_submit")
    vector += [math.log1p(max(took, 0.0)) if took is not None else 0.0, float(took is not None)]
    straight = features.get("straightness")
    vector += [
        straight if straight is not None else 0.0,
        min(features.get("interval_cv", 0.0), 3.0),
        float(straight is not None),
    ]
    near = features.get("near_distance")
    vector += [near if near is not None else 0.0, float(near is not None)]
    vector.append(float(sum(1 for code in reasons if code.startswith("signal_missing:"))))
    return vector


@dataclass(frozen=True)
class RiskModel:
    names: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def score(self, kind: str, reasons: Sequence[str], features: dict[str, float]) -> float:
        total = self.intercept
        for value, mean, scale, weight in zip(
            vectorise(kind, reasons, features), self.mean, self.scale, self.coef, strict=True
        ):
            total += (value - mean) / scale * weight
        if total >= 0:
            return 1.0 / (1.0 + math.exp(-total))
        odds = math.exp(total)
        return odds / (1.0 + odds)

    def to_json(self) -> str:
        return json.dumps(
            {
                "names": self.names,
                "mean": self.mean,
                "scale": self.scale,
                "coef": self.coef,
                "intercept": self.intercept,
            }
        )

    @classmethod
    def from_file(cls, path: Path) -> RiskModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        model = cls(
            names=list(data["names"]),
            mean=[float(v) for v in data["mean"]],
            scale=[float(v) for v in data["scale"]],
            coef=[float(v) for v in data["coef"]],
            intercept=float(data["intercept"]),
        )
        if model.names != feature_names():
            raise ValueError("the model was trained on other signals; train it again")
        return model


def train(rows: Sequence[list[float]], labels: Sequence[int], *, seed: int = 0) -> RiskModel:
    """Fit on vectors from :func:`vectorise` and 0/1 verdicts (1: fraud)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ValueError("the labels need both verdicts, fraud and not fraud")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    fitted.fit((x - mean) / scale, y)
    return RiskModel(
        names=feature_names(),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=fitted.coef_[0].tolist(),
        intercept=float(fitted.intercept_[0]),
    )
