"""The compliance check on campaign copy: claims, income, disclosure, comments, fakes."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from xingdong.campaigns.compliance import (
    CampaignCopy,
    Finding,
    FindingCode,
    Severity,
    WordListError,
    blocks_submission,
    check_copy,
    load_word_list,
)
from xingdong.campaigns.presentation import RETIRED_FINDING_MESSAGES, finding_text
from xingdong.core.settings import Settings

CLEAN = CampaignCopy(
    task_type="shoot",
    title="春季新品开箱",
    brief="拍一条15秒的开箱视频，展示产品外观和你的真实使用感受。",
    disclosure="广告",
)

Seen = tuple[FindingCode, Severity, str, str]


def seen(findings: list[Finding]) -> list[Seen]:
    return [(f.code, f.severity, f.field, f.excerpt) for f in findings]


def title_findings(title: str, code: FindingCode) -> list[tuple[Severity, str]]:
    found = check_copy(replace(CLEAN, title=title))
    return [(f.severity, f.excerpt) for f in found if f.code is code and f.field == "title"]


def test_clean_copy_has_no_findings() -> None:
    assert check_copy(CLEAN) == []
    assert not blocks_submission([])


# --- absolute claims ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "excerpt"),
    [
        ("全网最低价", "全网最低"),
        ("行业第一", "第一"),
        ("国家级品质", "国家级"),
        ("顶级面料，万能清洁", "顶级"),
        ("这款面霜最好用", "最好"),
        ("１００％有效", "１００％有效"),
        ("100% 有效", "100% 有效"),
        ("最 佳 选 择", "最 佳"),
        ("最\u200b佳", "最\u200b佳"),
        ("绝对新鲜", "绝对"),
        ("The BEST coffee in town", "The BEST"),
        ("ＢＥＳＴ ＣＨＯＩＣＥ", "ＢＥＳＴ ＣＨＯＩＣＥ"),
        ("No.1 skincare brand", "No.1"),
        ("no. 1 in China", "no. 1"),
        ("Our number one serum", "number one"),
        ("Results guaranteed", "guaranteed"),
        ("Rated #1 by users", "#1"),
    ],
)
def test_absolute_claims_block(title: str, excerpt: str) -> None:
    assert (Severity.BLOCK, excerpt) in title_findings(title, FindingCode.ABSOLUTE_CLAIM)
    assert blocks_submission(check_copy(replace(CLEAN, title=title)))


@pytest.mark.parametrize(
    "title",
    [
        "最近上新",
        "浏览主页最新一条视频",
        "看完最新视频后点赞",
        "第一次体验",
        "第一步：打开视频",
        "最后一天",
        "最终解释权归品牌所有",
        "每人最多领取一次",
        "最好在白天拍摄",
        "用第一视角拍摄",
        "唯一要求是真实",
        "绝对不要刷赞",
        "Best regards",
        "Do your best",
        "All the best",
        "A bestowed gift",
        "No. 10 on the list",
        "Is it really guaranteed income? No.",
    ],
)
def test_everyday_words_are_not_absolute_claims(title: str) -> None:
    assert title_findings(title, FindingCode.ABSOLUTE_CLAIM) == []


@pytest.mark.parametrize(
    ("title", "excerpt"),
    [
        ("最美的春天", "最"),
        ("最新款面霜", "最"),
        ("The only serum you need", "The only"),
        ("Best value", "Best"),
    ],
)
def test_ambiguous_claims_go_to_review(title: str, excerpt: str) -> None:
    assert title_findings(title, FindingCode.ABSOLUTE_CLAIM) == [(Severity.REVIEW, excerpt)]
    assert not blocks_submission(check_copy(replace(CLEAN, title=title)))


def test_the_longest_overlapping_claim_is_reported_once() -> None:
    assert title_findings("全网最低价", FindingCode.ABSOLUTE_CLAIM) == [
        (Severity.BLOCK, "全网最低")
    ]


def test_each_claim_is_reported_once_per_field() -> None:
    copy = replace(CLEAN, title="最好最好，真的最好！行业第一", brief="最好的面霜")
    assert seen(check_copy(copy)) == [
        (FindingCode.ABSOLUTE_CLAIM, Severity.BLOCK, "title", "最好"),
        (FindingCode.ABSOLUTE_CLAIM, Severity.BLOCK, "title", "第一"),
        (FindingCode.ABSOLUTE_CLAIM, Severity.BLOCK, "brief", "最好"),
    ]


def test_spelling_variants_of_one_claim_are_one_finding() -> None:
    assert title_findings("最好 最 好 ＢＥＳＴ choice best CHOICE", FindingCode.ABSOLUTE_CLAIM) == [
        (Severity.BLOCK, "最好"),
        (Severity.BLOCK, "ＢＥＳＴ choice"),
    ]


# --- income promises ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brief", "excerpt"),
    [
        ("在家日赚500元", "日赚"),
        ("轻松月入过万", "月入"),
        ("躺赚不是梦", "躺赚"),
        ("稳赚不赔", "稳赚"),
        ("零成本创业", "零成本"),
        ("保底收益每月3000", "保底收益"),
        ("Earn $300 a week", "Earn $"),
        ("Earn ＄300 a week", "Earn ＄"),
        ("A guaranteed income for everyone", "guaranteed income"),
        ("Build PASSIVE income", "PASSIVE income"),
    ],
)
def test_income_promises_block(brief: str, excerpt: str) -> None:
    found = check_copy(replace(CLEAN, brief=brief))
    assert seen(found) == [(FindingCode.INCOME_PROMISE, Severity.BLOCK, "brief", excerpt)]


@pytest.mark.parametrize(
    "brief",
    [
        "奖励每日入账，可随时提现",
        "完成后奖励2元",
        "Learn $-saving tips from the video",
        "Earn points by watching",
    ],
)
def test_stating_the_reward_is_not_an_income_promise(brief: str) -> None:
    assert check_copy(replace(CLEAN, brief=brief)) == []


# --- disclosure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disclosure",
    [
        "广告",
        "本视频为品牌推广",
        "由某某品牌赞助",
        "品牌合作",
        "#ad",
        "#AD #skincare",
        "＃ａｄ",
        "#sponsored",
        "Paid partnership with Acme",
        "Advertisement",
    ],
)
def test_a_disclosure_with_a_marker_passes(disclosure: str) -> None:
    assert check_copy(replace(CLEAN, disclosure=disclosure)) == []


@pytest.mark.parametrize(
    ("disclosure", "excerpt"),
    [
        ("", ""),
        ("   ", ""),
        ("\u200b", ""),
        ("感谢观看", "感谢观看"),
        ("#adidas 新品", "#adidas 新品"),
        ("Thanks to Acme", "Thanks to Acme"),
        ("谢" * 50, "谢" * 39 + "…"),
    ],
)
def test_a_missing_disclosure_blocks(disclosure: str, excerpt: str) -> None:
    found = check_copy(replace(CLEAN, disclosure=disclosure))
    assert seen(found) == [(FindingCode.MISSING_DISCLOSURE, Severity.BLOCK, "disclosure", excerpt)]


def test_missing_disclosure_messages_differ_for_empty_and_unmarked() -> None:
    [empty] = check_copy(replace(CLEAN, disclosure=""))
    [unmarked] = check_copy(replace(CLEAN, disclosure="感谢观看"))
    assert empty.text("en") == (
        "Add a disclosure that says this is paid promotion, with a word such as 广告, 推广 or #ad."
    )
    assert unmarked.text("en") == (
        "The disclosure “感谢观看” does not say that this is paid promotion. "
        "Use a word such as 广告, 推广 or #ad."
    )


# --- scripted comments -------------------------------------------------------------------

COMMENT = replace(CLEAN, task_type="comment", brief="看完视频后发表评论。")


@pytest.mark.parametrize(
    ("field", "text", "excerpt"),
    [
        ("brief", "请评论“好用！”", "评论“好用！”"),
        ("brief", "在评论区留言：「已入手」", "留言：「已入手」"),
        ("brief", "评论内容为：『真香』", "评论内容为：『真香』"),
        ("brief", "复制以下内容到评论区", "复制"),
        ("brief", "请大家统一评论", "统一评论"),
        ("brief", 'Comment "love it" under the video', 'Comment "love it"'),
        ("brief", "Reply with 'so good'", "Reply with 'so good'"),
        ("brief", "Copy and paste this text", "Copy and paste"),
        ("brief", "Post the following: great stuff", "Post the following"),
        ("comment_guidance", "评论“包装很精致”", "评论“包装很精致”"),
        ("comment_guidance", "Write “best purchase ever”", "Write “best purchase ever”"),
    ],
)
def test_comment_text_written_by_the_brand_blocks(field: str, text: str, excerpt: str) -> None:
    found = check_copy(replace(COMMENT, **{field: text}))
    scripted = [f for f in found if f.code is FindingCode.SCRIPTED_COMMENT]
    assert seen(scripted) == [(FindingCode.SCRIPTED_COMMENT, Severity.BLOCK, field, excerpt)]


@pytest.mark.parametrize(
    "guidance",
    [
        "评论时可以聊聊“续航”和“拍照”",
        "在评论中提到“续航”",
        "Talk about the battery life in your own words",
        "The comment's tone is up to you",
        "复制链接打开视频后，用自己的话评论",
        "用自己的话评论，请勿复制别人的评论",
        "不要照抄，也别粘贴模板",
        "Say it in your own words; do not copy other comments",
    ],
)
def test_topics_for_comments_are_fine(guidance: str) -> None:
    assert check_copy(replace(COMMENT, comment_guidance=guidance)) == []


def test_quotes_are_only_checked_for_comment_tasks() -> None:
    assert check_copy(replace(CLEAN, brief="视频里说“好用”")) == []
    assert check_copy(replace(CLEAN, task_type="share", brief="复制链接，评论“好用”")) == []


# --- fake engagement ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brief", "excerpts"),
    [
        ("帮忙刷粉", ["刷粉"]),
        ("互粉互赞", ["互粉", "互赞"]),
        ("可以用小号多关注几次", ["小号"]),
        ("领取奖励后即可取关", ["即可取关"]),
        ("Buy followers here", ["Buy followers"]),
        ("Use several accounts to like", ["several accounts"]),
        ("You can unfollow after you get paid", ["unfollow after"]),
        ("Then you can unfollow them", ["can unfollow"]),
        ("f4f only", ["f4f"]),
    ],
)
def test_fake_engagement_blocks(brief: str, excerpts: list[str]) -> None:
    found = check_copy(replace(CLEAN, brief=brief))
    assert seen(found) == [
        (FindingCode.FAKE_ENGAGEMENT, Severity.BLOCK, "brief", excerpt) for excerpt in excerpts
    ]


@pytest.mark.parametrize(
    "brief",
    [
        "关注账号并观看视频",
        "禁止刷赞",
        "关注后不可取关",
        "Do not unfollow after the reward",
        "Don't unfollow after the reward",
    ],
)
def test_genuine_engagement_is_fine(brief: str) -> None:
    assert check_copy(replace(CLEAN, brief=brief)) == []


# --- made-up orders and bought reviews ------------------------------------------------------

PURCHASE = replace(CLEAN, task_type="purchase", title="新品精华体验")


@pytest.mark.parametrize(
    ("brief", "found"),
    [
        ("收到后好评返现 5 元", [(Severity.BLOCK, "好评返现")]),
        ("下单后给五星好评", [(Severity.BLOCK, "五星好评")]),
        ("拍下不发货，截图后全额返款", [
            (Severity.BLOCK, "拍下不发货"), (Severity.BLOCK, "全额返款"),
        ]),
        # What must be fixed leaves out the same kind's finding to look at: one field,
        # one verdict.
        ("Leave a five-star review for a full refund", [(Severity.BLOCK, "five-star review")]),
        ("五星好评返现", [(Severity.BLOCK, "五星好评")]),
        ("Leave a 5 star review, we refund after review", [
            (Severity.BLOCK, "5 star review"), (Severity.BLOCK, "refund after review"),
        ]),
        ("收货后退回即可", [(Severity.REVIEW, "收货后退")]),
        ("好评后返现，联系客服返款", [
            (Severity.BLOCK, "好评后返现"), (Severity.BLOCK, "联系客服返款"),
        ]),
        ("帮店铺刷好评", [(Severity.BLOCK, "刷好评")]),
        ("下单立享返现", [(Severity.REVIEW, "返现")]),
        ("空包也行", [(Severity.BLOCK, "空包")]),
    ],
)  # fmt: skip
def test_made_up_orders_and_bought_reviews_are_refused(
    brief: str, found: list[tuple[Severity, str]]
) -> None:
    findings = check_copy(replace(PURCHASE, brief=brief))
    assert [(f.severity, f.excerpt) for f in findings] == found
    assert {f.code for f in findings} == {FindingCode.FAKE_ORDER}
    assert "E-Commerce Law" in findings[0].text("en")


@pytest.mark.parametrize(
    "brief",
    [
        "通过任务链接购买，收货后正常使用。无需好评。",
        "不要求好评，真实体验即可",
        "支持七天无理由退货",
        "Buy it through the link and keep it; no review required.",
        "真空包装，开封即用",
        "欢迎代拍摄开箱视频",
    ],
)
def test_a_real_purchase_is_fine(brief: str) -> None:
    assert check_copy(replace(PURCHASE, brief=brief)) == []


# --- all fields, messages ----------------------------------------------------------------


def test_findings_come_field_by_field() -> None:
    copy = CampaignCopy(
        task_type="comment",
        title="顶级好物",
        brief="评论“好用”，日赚百元",
        comment_guidance="互粉",
        disclosure="",
    )
    assert seen(check_copy(copy)) == [
        (FindingCode.ABSOLUTE_CLAIM, Severity.BLOCK, "title", "顶级"),
        (FindingCode.INCOME_PROMISE, Severity.BLOCK, "brief", "日赚"),
        (FindingCode.SCRIPTED_COMMENT, Severity.BLOCK, "brief", "评论“好用”"),
        (FindingCode.FAKE_ENGAGEMENT, Severity.BLOCK, "comment_guidance", "互粉"),
        (FindingCode.MISSING_DISCLOSURE, Severity.BLOCK, "disclosure", ""),
    ]


def test_message_is_a_msgid_filled_with_the_excerpt() -> None:
    [finding] = check_copy(replace(CLEAN, title="全网最低价"))
    assert "{excerpt}" in finding.message
    assert finding.text("en") == (
        "“全网最低” is an absolute claim (such as 最, 第一, 国家级), which the Advertising "
        "Law forbids. Describe the product in terms that can be verified."
    )


# --- word lists ----------------------------------------------------------------------------


def test_the_built_in_word_list_ships_inside_the_package() -> None:
    data = resources.files("xingdong.campaigns") / "data" / "banned_claims.txt"
    assert data.is_file()
    assert "全网最低" in data.read_text(encoding="utf-8")


EXTRA_WORDS = """\
# Our own words
秒杀价
?爆款
?第一
!最高
[income_promise]
\\#躺平赚钱
[disclosure_marker]
商单
"""


@pytest.fixture
def extra_words(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text(EXTRA_WORDS, encoding="utf-8")
    return path


def test_extra_words_file_adds_words_exceptions_and_markers(extra_words: Path) -> None:
    copy = replace(CLEAN, title="秒杀价爆款，最高可得", brief="#躺平赚钱", disclosure="商单")
    assert seen(check_copy(copy)) == [
        (FindingCode.ABSOLUTE_CLAIM, Severity.REVIEW, "title", "最"),
        (FindingCode.MISSING_DISCLOSURE, Severity.BLOCK, "disclosure", "商单"),
    ]
    # The title's 爆款 is one to look at, left out while its 秒杀价 must be fixed.
    assert seen(check_copy(copy, extra_words_file=extra_words)) == [
        (FindingCode.ABSOLUTE_CLAIM, Severity.BLOCK, "title", "秒杀价"),
        (FindingCode.INCOME_PROMISE, Severity.BLOCK, "brief", "#躺平赚钱"),
    ]
    fixed = replace(copy, title="爆款，可得")
    assert seen(check_copy(fixed, extra_words_file=extra_words))[0] == (
        FindingCode.ABSOLUTE_CLAIM,
        Severity.REVIEW,
        "title",
        "爆款",
    )


def test_extra_words_file_can_soften_a_built_in_word(extra_words: Path) -> None:
    copy = replace(CLEAN, title="行业第一")
    assert seen(check_copy(copy, extra_words_file=extra_words)) == [
        (FindingCode.ABSOLUTE_CLAIM, Severity.REVIEW, "title", "第一")
    ]
    assert load_word_list(extra_words) is load_word_list(extra_words)
    assert load_word_list().section("absolute_claim").severity_of("第一") is Severity.BLOCK


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("秒杀\n[claims]\n", r"words\.txt:2: unknown section \[claims\]"),
        ("[disclosure_marker]\n?商单\n", r"words\.txt:2: '\?' \(review\) has no meaning"),
        ("# nothing\n!\n", r"words\.txt:2: the entry is empty"),
    ],
)
def test_a_mistake_in_the_extra_words_file_names_the_line(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "words.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WordListError, match=problem):
        load_word_list(path)
    with pytest.raises(ValidationError, match=problem):
        Settings(compliance_extra_words_file=path)


def test_the_setting_accepts_a_good_file_and_refuses_a_missing_one(
    extra_words: Path, tmp_path: Path
) -> None:
    assert Settings().compliance_extra_words_file is None
    assert Settings(compliance_extra_words_file=extra_words).compliance_extra_words_file == (
        extra_words
    )
    with pytest.raises(ValidationError, match="compliance_extra_words_file"):
        Settings(compliance_extra_words_file=tmp_path / "absent.txt")


def test_a_finding_stored_with_a_message_since_reworded_still_reads_in_chinese() -> None:
    # Word for word what such findings hold (the message before it named the highest price).
    retired = (
        "A reward of {excerpt} is more than {limit}% of the product's price: it would pay for "
        "an order nobody wants (刷单). Lower the reward, or choose a product that costs more."
    )
    assert retired in RETIRED_FINDING_MESSAGES
    stored = {
        "code": "purchase_reward_too_high",
        "field": "unit_price",
        "excerpt": "¥60.00",
        "limit": 30,
        "message": retired,
    }
    text = finding_text(stored, "zh_CN")
    assert text.startswith("报酬 ¥60.00 超过商品价格的 30%")
    assert "{" not in text
    assert finding_text(stored, "en").startswith("A reward of ¥60.00 is more than 30%")
