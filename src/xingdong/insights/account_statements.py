"""An organisation's monthly account statement (机构对账单): its balance when the month
began, every movement of the month in Beijing time with the balance after it, the month's
movements summed by kind, and the balance when it ended; as a page, JSON and CSV.

A brand's account is the one it tops up and funds campaigns from (``org:<id>:available``);
an agency's is the one its shares of creators' rewards go to (``agency:<id>:available``).
The ledger reads it all in one statement (``ledger.account_statement``), so the lines, the
sums and the two balances always agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.campaigns import service as campaigns
from xingdong.core.clock import CHINA_TIME, local_time, utcnow
from xingdong.core.errors import FieldError, ValidationFailed
from xingdong.core.i18n import N_, translate
from xingdong.core.money import plain_yuan
from xingdong.core.numbers import whole_number
from xingdong.core.pagination import bad_cursor
from xingdong.core.policy import Actor
from xingdong.core.spreadsheets import SheetWriter
from xingdong.creators.agencies import agency_account
from xingdong.identity import service as identity
from xingdong.identity.models import Organisation
from xingdong.ledger.account_statement import Entry, PeriodStatement, period_statement
from xingdong.ledger.deposits import org_account
from xingdong.ledger.references import ids_of_kind, reference_names

CODE_LABELS = {
    "deposit": N_("Top-up"),
    "refund": N_("Top-up refunded to the payer"),
    "campaign_fund": N_("Campaign budget set aside"),
    "campaign_return": N_("Unused campaign budget returned"),
    "agency_share": N_("Share of a creator's reward"),
    "withdrawal": N_("Payout to the organisation's account"),
    "withdrawal_fee": N_("Payout fee"),
    "adjustment": N_("Correction by the platform"),
    "closure_remainder": N_("Balance too small to pay out, given up when the agency closed"),
}
"""What each movement of an organisation's account means to it; a code not listed is
shown as it is."""

PAGE_SIZE = 100
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA_TIME)

    @property
    def end(self) -> datetime:
        return self.following.start

    @property
    def following(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def this_month(now: datetime | None = None) -> Month:
    moment = (now or utcnow()).astimezone(CHINA_TIME)
    return Month(moment.year, moment.month)


def parse_month(
    raw: str | None, now: datetime | None = None, *, first: Month | None = None
) -> Month:
    """``YYYY-MM`` (Beijing time), not after this month nor before ``first`` (the month
    the organisation was created); empty means this month."""
    if not raw:
        return this_month(now)
    match = _MONTH.match(raw.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ValidationFailed(
            detail=N_("Give the month as year and month, such as 2026-12."),
            fields=[FieldError("month", N_("Year and month, such as 2026-12."))],
        )
    month = Month(int(match.group(1)), int(match.group(2)))
    if month.start > (now or utcnow()):
        raise ValidationFailed(
            detail=N_("That month has not begun yet."),
            fields=[FieldError("month", N_("Not begun yet."))],
        )
    if first is not None and month.start < first.start:
        raise ValidationFailed(
            detail=N_("The organisation was created later: its first month is {first}."),
            fields=[FieldError("month", N_("Before the organisation was created."))],
            extra={"first": first.text},
        )
    return month


def account_of(org: Organisation) -> str:
    return agency_account(org.id) if org.kind == "agency" else org_account(org.id)


@dataclass(frozen=True)
class AccountStatement:
    org: Organisation
    month: Month
    generated_at: datetime
    period: PeriodStatement
    references: dict[str, str]
    """What each entry's reference names, where it names something people know: a
    campaign's title, a top-up's or payout's number at the payment provider, a
    correction's reason (``reference_text`` says it in words)."""

    @property
    def running(self) -> bool:
        """The month is not over: its closing balance is the balance now."""
        return self.generated_at < self.month.end


def _cursor(raw: str | None) -> int:
    if not raw:
        return 0
    after = whole_number(raw, digits=9)
    if after is None or after < 0:
        raise bad_cursor()
    return after


async def _references(session: AsyncSession, entries: Sequence[Entry]) -> dict[str, str]:
    references = {entry.reference for entry in entries if entry.reference}
    campaign_ids = ids_of_kind(references, "campaign")
    found = await campaigns.campaigns_by_ids(session, sorted(campaign_ids))
    names = {campaign_ids[c.id]: c.title for c in found}
    names.update(await reference_names(session, references))
    return names


async def account_statement(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    month: str | None,
    cursor: str | None = None,
    limit: int | None = PAGE_SIZE,
) -> AccountStatement:
    """The organisation's statement for ``month`` (members and operators), with a page of
    its movements after ``cursor`` (all of them when ``limit`` is None)."""
    org = await identity.get_organisation(session, actor=actor, org_id=org_id)
    chosen = parse_month(month, first=this_month(org.created_at))
    period = await period_statement(
        session, account_of(org), start=chosen.start, end=chosen.end,
        after=_cursor(cursor), limit=limit,
    )  # fmt: skip
    return AccountStatement(
        org=org,
        month=chosen,
        generated_at=utcnow(),
        period=period,
        references=await _references(session, period.entries),
    )


def entry_label(code: str) -> str:
    """Untranslated (an ``N_`` message), or the code itself."""
    return CODE_LABELS.get(code, code)


_REFERENCE_FORMS = {
    "deposit": N_("Payment no. {number}"),
    "withdrawal": N_("Payout no. {number}"),
}
"""How a statement names a movement's reference, by its kind; a campaign's title and a
correction's reason are shown as they are."""


def reference_text(statement: AccountStatement, entry: Entry, locale: str) -> str:
    """What the movement was for, in ``locale``; empty where the movement's name says it
    all (a remainder given up when the organisation closed)."""
    reference = entry.reference or ""
    name = statement.references.get(reference)
    if name is None:
        return ""
    form = _REFERENCE_FORMS.get(reference.partition(":")[0])
    return translate(locale, form, number=name) if form else name


CSV_COLUMNS = (
    N_("Time (UTC+8)"),
    N_("Kind"),
    N_("Code"),
    N_("For"),
    N_("In (yuan)"),
    N_("Out (yuan)"),
    N_("Balance after (yuan)"),
    N_("Ledger transfer"),
)


def statement_csv(statement: AccountStatement, locale: str) -> str:
    """Every movement of the month as CSV for spreadsheets (a byte-order mark first, so
    that Excel reads the Chinese right), between a line for the opening balance and one
    for the closing balance."""
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow([translate(locale, column) for column in CSV_COLUMNS])
    period = statement.period
    writer.writerow(
        [local_time(statement.month.start, "%Y-%m-%d %H:%M:%S"),
         translate(locale, N_("Opening balance")), "", "", "", "", plain_yuan(period.opening), ""]
    )  # fmt: skip
    for entry in period.entries:
        writer.writerow(
            [
                local_time(entry.at, "%Y-%m-%d %H:%M:%S"),
                translate(locale, entry_label(entry.code)),
                entry.code,
                reference_text(statement, entry, locale),
                plain_yuan(entry.amount) if entry.amount > 0 else "",
                plain_yuan(-entry.amount) if entry.amount < 0 else "",
                plain_yuan(entry.balance_after),
                entry.transfer_id,
            ]
        )
    closing_at = min(statement.generated_at, statement.month.end)
    writer.writerow(
        [local_time(closing_at, "%Y-%m-%d %H:%M:%S"),
         translate(locale, N_("Closing balance")), "", "", "", "", plain_yuan(period.closing), ""]
    )  # fmt: skip
    return out.getvalue()


def csv_file_name(statement: AccountStatement) -> str:
    return f"account-{statement.org.id}-{statement.month.text}.csv"
