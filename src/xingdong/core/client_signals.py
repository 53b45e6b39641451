"""What a request tells about the client that sent it, for the risk checks: its address,
user agent, the device id and summary the pages send (``signals.js``) or API clients send
as headers, and the pointer path of the gesture that submitted a form.

Everything here is optional and untrusted: malformed values are dropped, never refused,
so a missing or forged signal can lower trust but cannot break a request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

MAX_SAMPLES = 300
MAX_TRAJECTORY_CHARS = 12_000
_DEVICE_ID = re.compile(r"^[0-9A-Za-z_-]{8,64}$")
_SUMMARY = re.compile(r"^[0-9a-f]{8}$")

Trajectory = list[tuple[int, int, int]]


@dataclass(frozen=True)
class ClientSignals:
    ip: str | None
    user_agent: str | None
    device_id: str | None
    device_summary: str | None
    trajectory: Trajectory | None

    @property
    def device(self) -> str | None:
        """The device as the risk checks count it: the kept id, else the summary (which
        identical phones share, so it is a weaker signal)."""
        if self.device_id:
            return self.device_id
        return f"summary:{self.device_summary}" if self.device_summary else None

    def as_json(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "ua": self.user_agent,
            "device": self.device,
            "trajectory": [list(s) for s in self.trajectory] if self.trajectory else None,
        }


def parse_device_id(raw: object) -> str | None:
    return raw if isinstance(raw, str) and _DEVICE_ID.match(raw) else None


def parse_device_summary(raw: object) -> str | None:
    return raw if isinstance(raw, str) and _SUMMARY.match(raw) else None


def parse_trajectory(raw: object) -> Trajectory | None:
    """``[[t_ms, x, y], …]`` with times not going back; anything else is None."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TRAJECTORY_CHARS:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not value or len(value) > MAX_SAMPLES:
        return None
    samples: Trajectory = []
    last = -1
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) for n in item)
        ):
            return None
        t, x, y = item
        if t < last or not (-100_000 <= x <= 100_000 and -100_000 <= y <= 100_000):
            return None
        last = t
        samples.append((t, x, y))
    return samples


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def signals_of(request: Request, form: Any | None = None) -> ClientSignals:
    """The signals of a page form (fields ``device_id``, ``device_summary``,
    ``trajectory``) or of an API call (headers ``X-Device-Id``, ``X-Trajectory``)."""
    headers = request.headers
    source = form if form is not None else {}
    return ClientSignals(
        ip=client_ip(request),
        user_agent=(headers.get("user-agent") or "")[:300] or None,
        device_id=parse_device_id(source.get("device_id") or headers.get("x-device-id")),
        device_summary=parse_device_summary(source.get("device_summary")),
        trajectory=parse_trajectory(source.get("trajectory") or headers.get("x-trajectory")),
    )
