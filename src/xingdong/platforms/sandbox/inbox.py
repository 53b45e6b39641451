"""A brand's webhook receiver, for the demo: the demo brand's endpoint points here, so its
deliveries succeed and anyone can see what a brand's system is sent and check the
signatures, the way docs/integrations.md tells a receiver to.

It exists only where webhooks may go to loopback addresses (the demo and tests): in
production it answers 404, like any path that is not there.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from xingdong.core.clock import utcnow
from xingdong.core.errors import NotFound
from xingdong.core.i18n import N_
from xingdong.insights import service as insights
from xingdong.insights import signing
from xingdong.web.deps import DbSession, SettingsDep
from xingdong.web.templating import render

router = APIRouter(include_in_schema=False)

INBOX_PATH = "/sandbox/webhook-inbox"
KEPT = 100


@dataclass(frozen=True)
class Receipt:
    received_at: datetime
    event_id: str
    event_type: str
    attempt: str
    signature_ok: bool
    body: str


_receipts: deque[Receipt] = deque(maxlen=KEPT)
"""What this process received, newest last (the demo runs one process)."""


def _pretty(raw: bytes) -> str:
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:2000]
    return json.dumps(parsed, ensure_ascii=False, indent=2)[:4000]


@router.post(INBOX_PATH)
async def receive(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    """Take a delivery: 204 when a demo endpoint's secret signs it, 400 when none does."""
    if not settings.webhook_private_targets:
        raise NotFound(detail=N_("There is nothing at this address."))
    raw = await request.body()
    header = request.headers.get(signing.SIGNATURE_HEADER, "")
    secrets = await insights.secrets_for_path(session, INBOX_PATH)
    now = int(time.time())
    ok = any(signing.verify(secret, raw, header, now=now) for secret in secrets)
    _receipts.append(
        Receipt(
            received_at=utcnow(),
            event_id=request.headers.get("Xingdong-Event-Id", ""),
            event_type=request.headers.get("Xingdong-Event-Type", ""),
            attempt=request.headers.get("Xingdong-Delivery-Attempt", ""),
            signature_ok=ok,
            body=_pretty(raw),
        )
    )
    return Response(status_code=204 if ok else 400)


@router.get(INBOX_PATH, response_class=HTMLResponse)
async def inbox(request: Request, settings: SettingsDep) -> HTMLResponse:
    """What the demo brand's system has been sent, newest first."""
    if not settings.webhook_private_targets:
        raise NotFound(detail=N_("There is nothing at this address."))
    return render(request, "sandbox_webhook_inbox.html", {"receipts": list(reversed(_receipts))})
