"""The review queue's filter: read leniently from a page's address, written back into
links, and every choice has words in the workbench's menus."""

from __future__ import annotations

from xingdong.campaigns.policy import TaskType
from xingdong.work import labels
from xingdong.work.review_filter import PLATFORM_CHECKS, RISK_LEVELS, ReviewFilter


def test_every_choice_has_words_and_every_word_a_choice() -> None:
    assert tuple(labels.CHECK_FILTER_LABELS) == PLATFORM_CHECKS
    assert tuple(labels.RISK_FILTER_LABELS) == RISK_LEVELS


def test_a_page_s_address_is_read_leniently_and_written_back_the_same() -> None:
    read = ReviewFilter.from_query(
        {"type": "follow", "check": "none", "risk": "high", "q": "  新品  ", "item": "x"}
    )
    assert read == ReviewFilter(TaskType.FOLLOW, "none", "high", "新品")
    assert read.narrows
    assert read.params() == {"type": "follow", "check": "none", "risk": "high", "q": "新品"}
    assert ReviewFilter.from_query(read.params()) == read
    # A hand-edited value is left out; a blank search is no search; a long one is cut.
    odd = ReviewFilter.from_query({"type": "dance", "check": "maybe", "risk": "", "q": "   "})
    assert odd == ReviewFilter() and not odd.narrows and odd.params() == {}
    assert ReviewFilter.from_query({"q": "长" * 200}).search == "长" * 80


def test_each_field_adds_one_condition() -> None:
    assert ReviewFilter().conditions() == []
    assert len(ReviewFilter(TaskType.LIKE, "verified", "low", "x").conditions()) == 4


def test_a_bare_at_sign_names_no_account() -> None:
    def sql(search: str) -> str:
        (condition,) = ReviewFilter(search=search).conditions()
        return str(condition.compile())

    assert "actor_handle" not in sql("@")
    assert "actor_handle" in sql("@worker")
    # Cut to its length, a search ends with no space.
    assert ReviewFilter.from_query({"q": "x" * 79 + "  y"}).search == "x" * 79
