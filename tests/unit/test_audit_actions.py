"""Every action the code writes to the audit log has words for operators to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xingdong.web.audit_actions import ACTION_LABELS

SOURCE = Path(__file__).parents[2] / "src" / "xingdong"
DOMAINS = sorted(p.name for p in SOURCE.iterdir() if (p / "__init__.py").exists())
CODE = re.compile(r'f?"((?:' + "|".join(DOMAINS) + r')\.[a-z_]*)(\{|")')


def written_codes() -> tuple[set[str], set[str]]:
    """Codes in the modules that write audit entries: whole ones, and the starts of those
    made from a status (``"ledger.withdrawal_" + status``, ``f"work.{kind}_…"``)."""
    whole: set[str] = set()
    starts: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "record_audit(" not in text or path.name == "audit_actions.py":
            continue
        for code, end in CODE.findall(text):
            (starts if end == "{" or code.endswith((".", "_")) else whole).add(code)
    return whole, starts


def test_the_source_is_scanned() -> None:
    whole, starts = written_codes()
    assert {"campaigns.submitted", "identity.person_frozen", "dispatch.seeding_failed"} <= whole
    assert {"ledger.withdrawal_", "ledger.refund_", "work.", "creators.contract_"} <= starts


def test_every_code_written_has_words() -> None:
    whole, _ = written_codes()
    assert sorted(whole - ACTION_LABELS.keys()) == []


@pytest.mark.parametrize(
    ("start", "endings"),
    [
        # A payout settles paid or failed (``PayoutResult``), a refund refunded or failed.
        ("ledger.withdrawal_", ["paid", "failed"]),
        ("ledger.refund_", ["refunded", "failed"]),
        # A dispute is an appeal or a contest, decided upheld or dismissed.
        ("work.", ["appeal_upheld", "appeal_dismissed", "contest_upheld", "contest_dismissed"]),
        ("identity.invitation_", ["accepted", "declined"]),
        ("creators.contract_", ["accepted", "declined", "withdrawn", "ended"]),
    ],
)
def test_codes_made_from_a_status_have_words_for_every_status(
    start: str, endings: list[str]
) -> None:
    _, starts = written_codes()
    assert start in starts
    assert [e for e in endings if ACTION_LABELS.get(start + e) is None] == []


def test_a_code_not_listed_has_no_words() -> None:
    assert ACTION_LABELS.get("ledger.job_ran") is None


def test_every_action_is_explained_in_the_docs() -> None:
    docs = (SOURCE.parents[1] / "docs" / "security.md").read_text(encoding="utf-8")
    assert [code for code in ACTION_LABELS if f"| `{code}` |" not in docs] == []
