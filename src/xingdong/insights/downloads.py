"""Files the brand downloads, as HTTP responses (shared by the API and the pages)."""

from __future__ import annotations

from fastapi import Response

from xingdong.campaigns.models import Campaign
from xingdong.core.clock import local_time, utcnow
from xingdong.insights import account_statements
from xingdong.web.downloads import attachment


def statement_csv_response(campaign: Campaign, body: str) -> Response:
    """A statement's CSV as a download named after the campaign and the day."""
    day = local_time(utcnow(), "%Y%m%d")
    return attachment(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        filename=f"statement-{campaign.id}-{day}.csv",
        readable_name=f"{campaign.title} {day}.csv",
    )


def account_statement_response(
    statement: account_statements.AccountStatement, locale: str
) -> Response:
    """A month of the organisation's account as CSV, kept out of shared caches (money)."""
    return attachment(
        account_statements.statement_csv(statement, locale).encode(),
        media_type="text/csv; charset=utf-8",
        filename=account_statements.csv_file_name(statement),
        readable_name=f"{statement.org.name} {statement.month.text}.csv",
        private=True,
    )
