"""Jinja2 templates with Babel translations; every domain's ``templates/`` folder is on
the search path, and the layout (``base.html``) is shared by all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from xingdong.campaigns.policy import IMPRESSIONS_PER_UNIT
from xingdong.core.clock import local_time
from xingdong.core.context import current_locale
from xingdong.core.errors import XingdongError
from xingdong.core.i18n import (
    LOCALE_NAMES,
    N_,
    SUPPORTED_LOCALES,
    is_known_message,
    translate,
    translations,
)
from xingdong.core.money import plain_yuan, yuan
from xingdong.identity.validation import interest_name, mask_phone, region_name, spaced_phone
from xingdong.web.audit_actions import ACTION_LABELS

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    PACKAGE_DIR / "web" / "templates",
    PACKAGE_DIR / "identity" / "templates",
    PACKAGE_DIR / "ledger" / "templates",
    PACKAGE_DIR / "platforms" / "sandbox" / "templates",
    PACKAGE_DIR / "work" / "templates",
    PACKAGE_DIR / "campaigns" / "templates",
    PACKAGE_DIR / "dispatch" / "templates",
    PACKAGE_DIR / "risk" / "templates",
    PACKAGE_DIR / "creators" / "templates",
    PACKAGE_DIR / "insights" / "templates",
]


@dataclass(frozen=True)
class StaffPage:
    key: str
    """What tests and scripts find its link by (``data-role-nav``)."""
    href: str
    label: str
    roles: frozenset[str]


_REVIEWERS = frozenset({"reviewer", "admin"})
_OPERATORS = frozenset({"operator", "admin"})
STAFF_PAGES = (
    StaffPage("reviewer", "/review", N_("Review queue"), _REVIEWERS),
    StaffPage("operator", "/ops/people", N_("Operations"), _OPERATORS),
    StaffPage("campaigns", "/ops/campaigns", N_("Campaign approval"), _OPERATORS),
    StaffPage("disputes", "/ops/disputes", N_("Disputes"), _OPERATORS),
    StaffPage("money", "/ops/money", N_("Money"), _OPERATORS),
    StaffPage("review-quality", "/ops/review-quality", N_("Review quality"), _OPERATORS),
    StaffPage("risk", "/ops/risk", N_("Risk cases"), _OPERATORS),
    StaffPage("audit", "/ops/audit", N_("Audit log"), _OPERATORS),
    StaffPage("jobs", "/ops/jobs", N_("Background jobs"), _OPERATORS),
    StaffPage("dispatch", "/ops/dispatch", N_("Feed console"), _OPERATORS),
)
"""The staff consoles, in the order the menu and the home page list them."""


def staff_pages(actor: Any) -> list[StaffPage]:
    """The consoles the signed-in person's staff roles open (none for everyone else)."""
    roles = set(getattr(actor, "staff_roles", None) or ())
    return [page for page in STAFF_PAGES if page.roles & roles]


def _gettext(message: str, **params: Any) -> str:
    return translate(current_locale.get(), message, **params)


def _ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def is_safe_link(link: str | None) -> bool:
    """Only web addresses and paths on this site become clickable (a link someone typed
    may be anything, ``javascript:`` included)."""
    if not link:
        return False
    return link.startswith(("https://", "http://")) or (
        link.startswith("/") and not link.startswith("//")
    )


def other_params(request: Request, *names: str) -> dict[str, str]:
    """The page's query without ``names`` (the list a pager moves) and without ``done``
    (the message a form left, which belongs to the page it led to only): what a link to
    another page of one list keeps of the rest of the page."""
    return {
        key: value
        for key, value in request.query_params.items()
        if key not in names and key not in ("done", "tone")
    }


def build_environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(path)) for path in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["mask_phone"] = mask_phone
    env.filters["spaced_phone"] = spaced_phone
    env.globals["LOCALE_NAMES"] = LOCALE_NAMES
    env.globals["SUPPORTED_LOCALES"] = SUPPORTED_LOCALES
    env.globals["region_name"] = lambda region: region_name(region, current_locale.get())
    env.globals["interest_name"] = lambda interest: interest_name(interest, current_locale.get())
    env.globals["local_time"] = local_time
    env.globals["AUDIT_ACTIONS"] = ACTION_LABELS
    # A profile ad's unit, which its pages count impressions in.
    env.globals["impressions_per_unit"] = IMPRESSIONS_PER_UNIT
    env.globals["yuan"] = yuan
    env.globals["plain_yuan"] = plain_yuan
    env.globals["is_safe_link"] = is_safe_link
    env.globals["other_params"] = other_params
    return env


ENVIRONMENT = build_environment()


def field_messages(error: XingdongError | None) -> dict[str, str]:
    """Translated messages by field name, for showing next to each input."""
    if error is None:
        return {}
    locale = current_locale.get()
    result: dict[str, str] = {}
    for item in error.fields:
        result.setdefault(item.field, translate(locale, item.message, **error.extra))
    return result


PAGE_WORDS = {
    "idempotency_key_reused": N_(
        "This form was already sent, with other values. Reload the page to start again."
    ),
}
"""What a page says for an error whose API wording names machinery (a form's one-off id is
the API's idempotency key)."""


def error_summary(error: XingdongError | None) -> str | None:
    if error is None:
        return None
    if error.code in PAGE_WORDS:
        return translate(current_locale.get(), PAGE_WORDS[error.code])
    return translate(current_locale.get(), error.detail or error.title, **error.extra)


def _known_flash(message: str | None) -> str | None:
    """Only messages of our own catalog are shown, so a link cannot put words on a page."""
    if message and is_known_message(message):
        return message
    return None


FLASH_TONES = frozenset({"ok", "info"})
"""How a message after a form looks: ``ok``, something was done; ``info``, nothing was to
be done (asked, and the answer is "not yet")."""


def redirect(path: str, done: str | None = None, *, tone: str = "ok") -> RedirectResponse:
    """After a form: see ``path`` (303), with ``done`` (a message of our catalog) shown
    on it once, in ``tone`` (one of :data:`FLASH_TONES`). A ``#fragment`` of ``path``
    stays at the end, where browsers read it."""
    if done:
        path, hash_mark, fragment = path.partition("#")
        said = "done=" + quote(done) + ("" if tone == "ok" else f"&tone={tone}")
        path += ("&" if "?" in path else "?") + said + hash_mark + fragment
    return RedirectResponse(path, status_code=303)


def page_address(request: Request) -> str | None:
    """Where a page shown in answer to a form (an error, or a key shown once) belongs: the
    page the form was on, when the browser says so (a same-site Referer), so that the
    address bar, a reload and the language links lead there and not to the form's
    POST-only address. None for a page asked for with GET, which is at its address."""
    if request.method in ("GET", "HEAD"):
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    host = request.headers.get("host", "")
    if not host or referer.netloc != host or not referer.path.startswith("/"):
        return None
    kept = [(k, v) for k, v in parse_qsl(referer.query) if k not in ("lang", "done", "tone")]
    return referer.path + ("?" + urlencode(kept) if kept else "")


def in_language(request: Request, code: str) -> str:
    """This page's address in another language: its search, filters and page kept (a
    one-off ``done`` message is not said again)."""
    own = page_address(request)
    if own is not None:
        path, _, query = own.partition("?")
        return path + "?" + urlencode([*parse_qsl(query), ("lang", code)])
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "done", "tone")
    ]
    return "?" + urlencode([*kept, ("lang", code)])


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    error: XingdongError | None = None,
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "request": request,
        "locale": current_locale.get(),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "me": getattr(request.state, "person", None),
        "actor": getattr(request.state, "actor", None),
        "staff_pages": staff_pages(getattr(request.state, "actor", None)),
        "reveal_codes": request.app.state.runtime.settings.sms_reveal_codes,
        # The demo's own webhook receiver exists only where webhooks may go to loopback.
        "private_webhooks": request.app.state.runtime.settings.webhook_private_targets,
        "support_contact": request.app.state.runtime.settings.support_contact,
        "sends_to_support": error is not None and error.sends_to_support,
        "errors": field_messages(error),
        "error_summary": error_summary(error),
        "flash": _known_flash(request.query_params.get("done")),
        "flash_tone": tone if (tone := request.query_params.get("tone")) in FLASH_TONES else "ok",
        "in_language": lambda code: in_language(request, code),
        "page_address": page_address(request),
    }
    ctx.update(context or {})
    html = ENVIRONMENT.get_template(template).render(ctx)
    status = error.status if error is not None and status_code == 200 else status_code
    return HTMLResponse(html, status_code=status)
