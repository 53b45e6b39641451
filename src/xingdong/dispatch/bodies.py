"""The feed API's JSON, mostly joined from bytes serialised once per live campaign.

An item of ``GET /api/v1/tasks`` is a :class:`~xingdong.work.schemas.TaskOut`: most of it
is the campaign's fixed terms in the reader's language; four values change from request
to request (``seconds_left``, ``units_left``, ``taken_by_me`` and ``why``). Each campaign
is serialised once per locale, through the response model itself, with marker numbers in
the changing places; the bytes between the markers are kept and a request only writes
the four values between them. The bytes are the ones FastAPI would send for the same
model (the tests compare them). The live index forgets a campaign's pieces when its sync
drops or re-reads the campaign (paused, filled, ended, changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from xingdong.campaigns.models import Campaign
from xingdong.work.schemas import ReasonOut, TaskFeedOut, TaskOut
from xingdong.work.service import OpenTask

# Numbers no campaign can hold in these fields; each is found once, after its key.
_SECONDS = -900_000_000_001
_UNITS = -900_000_000_002
_TAKEN = -900_000_000_003
_MARKERS = (
    f'"seconds_left":{_SECONDS}'.encode(),
    f'"units_left":{_UNITS}'.encode(),
    f'"taken_by_me":{_TAKEN}'.encode(),
    b'"why":null}',
)
REASONS_CACHED = 20_000
"""Reason lines kept serialised (code, parameters and locale); beyond, the cache starts
over: reasons repeat across people (one per tier, interest, price band …)."""

Pieces = tuple[bytes, bytes, bytes, bytes]
ReasonText = Callable[[OpenTask, str], str]
"""The reason line of an item in a language (``dispatch.service.reason_text``)."""


def _pieces(campaign: Campaign, locale: str, now: datetime) -> Pieces:
    model = TaskOut.of(campaign, units_left=_UNITS, taken_by_me=_TAKEN, now=now, locale=locale)
    model.seconds_left = _SECONDS
    raw = model.model_dump_json().encode()
    cut: list[bytes] = []
    rest = raw
    for marker in _MARKERS:
        head, found, rest = rest.partition(marker)
        if not found or marker in rest:
            raise ValueError(f"the feed item's shape changed: {marker!r} not found once")
        # Keep the key with the bytes before it; the value is written per request.
        cut.append(head + marker.split(b":", 1)[0] + b":")
    if rest:
        raise ValueError("the feed item's shape changed: fields after why")
    return cut[0], cut[1], cut[2], cut[3]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _microseconds(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch (exact, unlike a float timestamp)."""
    return (moment - _EPOCH) // _MICROSECOND


class ItemBodies:
    """Serialised pieces of each live campaign's feed item, per locale."""

    def __init__(self) -> None:
        self._pieces: dict[tuple[str, str], tuple[Pieces, int]] = {}
        """Each campaign's pieces in a locale, with its end in microseconds since the epoch
        (read once: an ORM attribute costs more than the rest of the item)."""
        self._reasons: dict[tuple[str, str, tuple[tuple[str, str | int], ...]], bytes] = {}

    def __len__(self) -> int:
        return len(self._pieces)

    def holds(self, campaign_id: str) -> bool:
        return any(key[0] == campaign_id for key in self._pieces)

    def forget(self, campaign_ids: Iterable[str]) -> None:
        """Drop the pieces of these campaigns (in every locale)."""
        gone = set(campaign_ids)
        if gone:
            for key in [key for key in self._pieces if key[0] in gone]:
                del self._pieces[key]

    def feed(self, tasks: list[OpenTask], *, now: datetime, locale: str, why: ReasonText) -> bytes:
        """The body of a feed with these tasks (``reasons`` is empty when there are), in
        one pass: it runs on every feed request."""
        now_us = _microseconds(now)
        pieces_of = self._pieces
        reasons = self._reasons
        parts: list[bytes] = []
        for task in tasks:
            key = (task.task_id, locale)
            found = pieces_of.get(key)
            if found is None:
                found = pieces_of[key] = (
                    _pieces(task.campaign, locale, now),
                    _microseconds(task.campaign.ends_at),
                )
            pieces, ends_us = found
            # As int(timedelta.total_seconds()) rounds a positive span: down.
            seconds_left = max((ends_us - now_us) // 1_000_000, 0)
            reason_key = (locale, task.reason, tuple(task.reason_params.items()))
            reason = reasons.get(reason_key)
            if reason is None:
                reason = self._reason(task, locale, why, reason_key)
            parts += (
                b"," if parts else b"", pieces[0], str(seconds_left).encode(),
                pieces[1], str(task.units_left).encode(),
                pieces[2], str(task.taken_by_me).encode(),
                pieces[3], reason, b"}",
            )  # fmt: skip
        return b'{"items":[' + b"".join(parts) + b'],"reasons":[]}'

    def _reason(
        self,
        task: OpenTask,
        locale: str,
        why: ReasonText,
        key: tuple[str, str, tuple[tuple[str, str | int], ...]],
    ) -> bytes:
        if len(self._reasons) >= REASONS_CACHED:
            self._reasons.clear()
        reason = ReasonOut(code=task.reason, message=why(task, locale))
        found = self._reasons[key] = reason.model_dump_json().encode()
        return found


def empty_feed(reasons: list[ReasonOut]) -> bytes:
    """A feed with no items, and why: rare enough to serialise through the model."""
    return TaskFeedOut(items=[], reasons=reasons).model_dump_json().encode()
