"""The compliance check on campaign copy (DESIGN.md §7).

Before a campaign goes live, its title, brief, comment guidance and disclosure are checked
for absolute claims the Advertising Law forbids, promises of income, a missing promotion
disclosure, comment text written by the brand, and requests for fake engagement. Each
problem is a :class:`Finding`: a ``block`` finding stops the brand from submitting, a
``review`` finding is put in front of the operator who approves the campaign.

The words live in ``data/banned_claims.txt``; operators add their own in a file of the same
format (setting ``compliance_extra_words_file``). Text is compared after NFKC normalisation
and case folding, so full-width and upper-case spellings are caught too.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from xingdong.core.i18n import N_, translate


class Severity(StrEnum):
    BLOCK = "block"
    """The campaign cannot be submitted until the brand changes it."""
    REVIEW = "review"
    """The campaign may be submitted; the approving operator must look at this."""


class FindingCode(StrEnum):
    ABSOLUTE_CLAIM = "absolute_claim"
    INCOME_PROMISE = "income_promise"
    MISSING_DISCLOSURE = "missing_disclosure"
    SCRIPTED_COMMENT = "scripted_comment"
    FAKE_ENGAGEMENT = "fake_engagement"
    FAKE_ORDER = "fake_order"
    TASK_TYPE_NOT_ALLOWED = "task_type_not_allowed"
    TARGETING_REQUIRED = "targeting_required"
    PACING_CAP_REQUIRED = "pacing_cap_required"
    PACING_CAP_TOO_HIGH = "pacing_cap_too_high"
    WATCH_TIME_TOO_SHORT = "watch_time_too_short"
    PURCHASE_REWARD_TOO_HIGH = "purchase_reward_too_high"
    TARGET_NOT_LINKED = "target_not_linked"


@dataclass(frozen=True)
class Finding:
    """One problem with a campaign, in terms a brand and an operator can act on."""

    code: FindingCode
    severity: Severity
    field: str
    """The input concerned: ``title``, ``brief``, ``comment_guidance`` or ``disclosure``
    for the copy; ``task_type``, ``targeting``, ``pacing_per_hour``,
    ``min_watch_seconds`` or ``unit_price`` for the guardrails."""
    excerpt: str
    """The matched text as the brand wrote it; empty when something is missing."""
    message: str
    """A message id (``N_``); :meth:`text` fills in ``{excerpt}`` and ``{limit}``."""
    limit: int | None = None
    """For guardrail findings: the policy's bound the campaign must respect."""
    allowed: str = ""
    """Where the bound is a share of an amount: the most it allows, as said (¥30.00)."""

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.BLOCK

    def text(self, locale: str) -> str:
        """The message translated to ``locale``, with the excerpt and limit filled in."""
        return translate(
            locale, self.message, excerpt=self.excerpt, limit=self.limit, allowed=self.allowed
        )


@dataclass(frozen=True)
class CampaignCopy:
    """What a campaign says to workers and viewers, as the brand wrote it."""

    task_type: str
    title: str
    brief: str
    disclosure: str
    """The promotion disclosure the campaign shows (广告, #ad …)."""
    comment_guidance: str | None = None
    """For comment tasks: what the comments may be about (topics), never their text."""


OWN_ACCOUNT_TASKS = frozenset({"shoot", "profile_ad"})
"""Task types that speak for their target's account (a video made for it, an ad for it
on the worker's profile): only the account's own brand may publish them."""


def ownership_finding(task_type: str, owner_handle: str) -> Finding:
    """The target belongs to an account the organisation has not linked: a shoot task or
    a profile ad cannot go out in another account's name; any other task may (a brand
    promoting a creator's video), once an operator has checked that it may."""
    if task_type in OWN_ACCOUNT_TASKS:
        return Finding(
            code=FindingCode.TARGET_NOT_LINKED,
            severity=Severity.BLOCK,
            field="target",
            excerpt="@" + owner_handle,
            message=N_(
                "{excerpt} is not one of the organisation's linked accounts. Shoot tasks "
                "and profile ads promote the brand's own account: link it on the "
                "organisation's page first."
            ),
        )
    return Finding(
        code=FindingCode.TARGET_NOT_LINKED,
        severity=Severity.REVIEW,
        field="target",
        excerpt="@" + owner_handle,
        message=N_(
            "The target belongs to {excerpt}, which is not one of the organisation's "
            "linked accounts: the approving operator checks that you may promote it."
        ),
    )


def blocks_submission(findings: Iterable[Finding]) -> bool:
    """Whether any finding keeps the campaign from being submitted."""
    return any(finding.blocks for finding in findings)


# --- word lists ------------------------------------------------------------------------

DISCLOSURE_MARKER = "disclosure_marker"
"""The word-list section of words that make a disclosure a disclosure (广告, #ad …)."""

_FLAG_SECTIONS = (
    FindingCode.ABSOLUTE_CLAIM,
    FindingCode.INCOME_PROMISE,
    FindingCode.FAKE_ENGAGEMENT,
    FindingCode.FAKE_ORDER,
    FindingCode.SCRIPTED_COMMENT,
)
_SECTION_NAMES = frozenset({*(code.value for code in _FLAG_SECTIONS), DISCLOSURE_MARKER})
_BUILTIN_WORDS = "banned_claims.txt"


class WordListError(ValueError):
    """A word file has a line the check cannot use; the message names the file and line."""


@dataclass(frozen=True, eq=False)
class _Term:
    text: str
    severity: Severity
    pattern: re.Pattern[str]


@dataclass(frozen=True, eq=False)
class WordSection:
    """The compiled entries of one section of the word lists."""

    terms: tuple[_Term, ...]
    exceptions: tuple[re.Pattern[str], ...]

    def severity_of(self, entry: str) -> Severity | None:
        """The severity ``entry`` is flagged with, or None when it is not an entry."""
        wanted = _normalise_entry(entry)
        return next((term.severity for term in self.terms if term.text == wanted), None)


@dataclass(frozen=True, eq=False)
class WordList:
    """The built-in word lists merged with an operator's extra file."""

    sections: Mapping[str, WordSection]

    def section(self, name: str) -> WordSection:
        return self.sections[name]


@dataclass
class _Draft:
    terms: dict[str, Severity] = dataclasses.field(default_factory=dict)
    exceptions: dict[str, None] = dataclasses.field(default_factory=dict)
    """Used as an ordered set."""

    def compile(self) -> WordSection:
        return WordSection(
            terms=tuple(
                _Term(text, severity, _compile_entry(text)) for text, severity in self.terms.items()
            ),
            exceptions=tuple(_compile_entry(text) for text in self.exceptions),
        )


@cache
def load_word_list(extra_file: Path | None = None) -> WordList:
    """The built-in word lists, extended by ``extra_file`` when given.

    Read once per process and file: restart after editing the extra file. An entry of the
    extra file replaces the same entry's severity in the built-in list.
    """
    drafts = {name: _Draft() for name in sorted(_SECTION_NAMES)}
    builtin = resources.files("xingdong.campaigns") / "data" / _BUILTIN_WORDS
    _parse_words(builtin.read_text(encoding="utf-8"), _BUILTIN_WORDS, drafts)
    if extra_file is not None:
        _parse_words(extra_file.read_text(encoding="utf-8-sig"), str(extra_file), drafts)
    return WordList(MappingProxyType({name: draft.compile() for name, draft in drafts.items()}))


def _parse_words(text: str, source: str, drafts: Mapping[str, _Draft]) -> None:
    section = FindingCode.ABSOLUTE_CLAIM.value
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section not in _SECTION_NAMES:
                known = ", ".join(sorted(_SECTION_NAMES))
                raise WordListError(
                    f"{source}:{number}: unknown section [{section}]; known sections: {known}"
                )
            continue
        marker, severity = line[0], Severity.BLOCK
        if marker in "!?\\":
            line = line[1:]
        if marker == "?":
            severity = Severity.REVIEW
        entry = _normalise_entry(line)
        if not entry:
            raise WordListError(f"{source}:{number}: the entry is empty")
        draft = drafts[section]
        if marker == "!":
            draft.exceptions[entry] = None
        elif marker == "?" and section == DISCLOSURE_MARKER:
            raise WordListError(
                f"{source}:{number}: '?' (review) has no meaning in [{DISCLOSURE_MARKER}]"
            )
        else:
            draft.terms[entry] = severity


# --- matching ----------------------------------------------------------------------------


def _normalise(text: str) -> tuple[str, list[int]]:
    """``text`` in NFKC, case-folded, without invisible format characters (zero-width
    spaces and the like, used to slip words past filters); and for each character of the
    result, the index in ``text`` of the character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold():
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _normalise_entry(entry: str) -> str:
    return " ".join(_normalise(unicodedata.normalize("NFC", entry))[0].split())


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _is_latin_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


_NOT_AFTER_WORD = r"(?<![0-9a-z])"
_NOT_BEFORE_WORD = r"(?![0-9a-z])"


def _compile_entry(entry: str) -> re.Pattern[str]:
    """A pattern for a normalised entry: its spaces match any or no whitespace, spaces
    between Chinese characters are ignored, and Latin words match only whole."""
    parts: list[str] = []
    previous = ""
    for char in entry:
        if char == " ":
            parts.append(r"\s*")
            previous = ""
            continue
        if previous and (_is_cjk(previous) or _is_cjk(char)):
            parts.append(r"\s*")
        parts.append(re.escape(char))
        previous = char
    body = "".join(parts)
    if _is_latin_word(entry[0]):
        body = _NOT_AFTER_WORD + body
    if _is_latin_word(entry[-1]):
        body += _NOT_BEFORE_WORD
    return re.compile(body)


# Comment text dictated in quotes: 评论“好用”, 在评论区留言「已入手」, comment "love it".
# Only a few filler words may stand between the verb and the quote, so that topics in
# quotes (评论时可以聊聊“续航”) are not taken for dictated text.
_DICTATED_COMMENT = re.compile(
    r"(?:评论|留言|回复|回评|弹幕|好评|"
    + _NOT_AFTER_WORD
    + r"(?:comments?|repl(?:y|ies)|write|say|post|type)"
    + _NOT_BEFORE_WORD
    + r")(?:区|里|中|上|内容|时|一句|一条|以下|下面|如下|发|发送|输入|写|打|填|为|是|说|道"
    r"|with|this|saying|something like|:|\s){0,6}"
    r"(?:[“\"「『‘]|(?<=[\s:])')"
    r"[^”\"」』’'\n]{1,200}"
    r"[”\"」』’']"
)


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    severity: Severity

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


def _matches(section: WordSection, text: str, extra: Iterable[_Match] = ()) -> list[_Match]:
    """Where ``section`` flags ``text``: matches overlapping an exception are dropped, and
    of overlapping matches the longest is kept (全网最低 rather than 最)."""
    excepted = [
        (found.start(), found.end())
        for pattern in section.exceptions
        for found in pattern.finditer(text)
    ]
    candidates = [
        _Match(found.start(), found.end(), term.severity)
        for term in section.terms
        for found in term.pattern.finditer(text)
    ]
    candidates.extend(extra)
    kept: list[_Match] = []
    ranked = sorted(
        candidates,
        key=lambda match: (match.start - match.end, match.severity != Severity.BLOCK, match.start),
    )
    for match in ranked:
        if any(match.overlaps(start, end) for start, end in excepted):
            continue
        if not any(match.overlaps(other.start, other.end) for other in kept):
            kept.append(match)
    return sorted(kept, key=lambda match: match.start)


_MESSAGES: Mapping[FindingCode, str] = MappingProxyType(
    {
        FindingCode.ABSOLUTE_CLAIM: N_(
            "“{excerpt}” is an absolute claim (such as 最, 第一, 国家级), which the "
            "Advertising Law forbids. Describe the product in terms that can be verified."
        ),
        FindingCode.INCOME_PROMISE: N_(
            "“{excerpt}” promises income. Do not promise earnings to workers or viewers; "
            "state the reward for this task instead."
        ),
        FindingCode.FAKE_ENGAGEMENT: N_(
            "“{excerpt}” asks for fake engagement (bought or swapped followers, several "
            "accounts, unfollowing after payment). Only genuine actions by real people are "
            "allowed."
        ),
        FindingCode.FAKE_ORDER: N_(
            "“{excerpt}” asks for a made-up order or a bought review (刷单, 好评返现), which "
            "the E-Commerce Law forbids. A purchase task pays for a real purchase the buyer "
            "keeps, and may not ask for a review, a score or the price back."
        ),
        FindingCode.SCRIPTED_COMMENT: N_(
            "“{excerpt}” tells workers what to write. Comments must be in the worker's own "
            "words: name topics, not the text."
        ),
    }
)
_DISCLOSURE_EMPTY = N_(
    "Add a disclosure that says this is paid promotion, with a word such as 广告, 推广 or #ad."
)
_DISCLOSURE_UNMARKED = N_(
    "The disclosure “{excerpt}” does not say that this is paid promotion. Use a word such "
    "as 广告, 推广 or #ad."
)
_EXCERPT_MAX = 40


@dataclass(frozen=True)
class _Text:
    """A field's text prepared for matching."""

    original: str
    normalised: str
    origin: list[int]

    @classmethod
    def of(cls, value: str) -> _Text:
        original = unicodedata.normalize("NFC", value)
        normalised, origin = _normalise(original)
        return cls(original, normalised, origin)

    def excerpt(self, match: _Match) -> str:
        return self.original[self.origin[match.start] : self.origin[match.end - 1] + 1]

    def key(self, match: _Match) -> str:
        return "".join(self.normalised[match.start : match.end].split())


def _field_findings(
    code: FindingCode, field: str, text: _Text, matches: Iterable[_Match]
) -> Iterator[Finding]:
    """One finding per distinct matched text, however often it occurs in the field. Where
    one must be fixed, the same code's findings for an operator to look at are left out:
    the field changes anyway, and two findings of one kind with two severities on one
    phrase (五星好评返现) read as a contradiction."""
    found = list(matches)
    if any(match.severity == Severity.BLOCK for match in found):
        found = [match for match in found if match.severity == Severity.BLOCK]
    seen: set[str] = set()
    for match in found:
        key = text.key(match)
        if key in seen:
            continue
        seen.add(key)
        yield Finding(code, match.severity, field, text.excerpt(match), _MESSAGES[code])


def _disclosure_findings(text: _Text, words: WordList) -> Iterator[Finding]:
    shown = text.original.strip()
    if not text.normalised.strip():
        yield Finding(
            FindingCode.MISSING_DISCLOSURE, Severity.BLOCK, "disclosure", "", _DISCLOSURE_EMPTY
        )
    elif not _matches(words.section(DISCLOSURE_MARKER), text.normalised):
        if len(shown) > _EXCERPT_MAX:
            shown = shown[: _EXCERPT_MAX - 1] + "…"
        yield Finding(
            FindingCode.MISSING_DISCLOSURE,
            Severity.BLOCK,
            "disclosure",
            shown,
            _DISCLOSURE_UNMARKED,
        )


_COMMENT_TASK = "comment"
_SCRIPTABLE_FIELDS = frozenset({"brief", "comment_guidance"})


def check_copy(copy: CampaignCopy, *, extra_words_file: Path | None = None) -> list[Finding]:
    """Every compliance finding on ``copy``, field by field in the order the brand fills
    them in. Pass the ``compliance_extra_words_file`` setting as ``extra_words_file``."""
    words = load_word_list(extra_words_file)
    fields = (
        ("title", copy.title),
        ("brief", copy.brief),
        ("comment_guidance", copy.comment_guidance or ""),
        ("disclosure", copy.disclosure),
    )
    findings: list[Finding] = []
    for field, value in fields:
        text = _Text.of(value)
        if field == "disclosure":
            findings.extend(_disclosure_findings(text, words))
        for code in (
            FindingCode.ABSOLUTE_CLAIM,
            FindingCode.INCOME_PROMISE,
            FindingCode.FAKE_ENGAGEMENT,
            FindingCode.FAKE_ORDER,
        ):
            matches = _matches(words.section(code), text.normalised)
            findings.extend(_field_findings(code, field, text, matches))
        if copy.task_type == _COMMENT_TASK and field in _SCRIPTABLE_FIELDS:
            dictated = [
                _Match(found.start(), found.end(), Severity.BLOCK)
                for found in _DICTATED_COMMENT.finditer(text.normalised)
            ]
            matches = _matches(
                words.section(FindingCode.SCRIPTED_COMMENT), text.normalised, dictated
            )
            findings.extend(_field_findings(FindingCode.SCRIPTED_COMMENT, field, text, matches))
    return findings
