"""Checks on what people type: phone numbers, passwords, handles, profile choices."""

from __future__ import annotations

import re
from uuid import UUID

from xingdong.core.errors import FieldError
from xingdong.core.i18n import N_
from xingdong.core.numbers import ascii_digits

# ASCII digits only: ``\d`` would also take a full-width or an Arabic-Indic digit, and
# store a look-alike of a number.
_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_LIKE = re.compile(r"\+?[0-9]+")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_HANDLE = re.compile(r"^[A-Za-z0-9_.\u4e00-\u9fff]{2,30}$")

# Passwords seen most often in leaked lists; length and variety alone let these through.
_COMMON_PASSWORDS = frozenset(
    {
        "password1",
        "password123",
        "qwerty123",
        "abc12345",
        "abcd1234",
        "a1234567",
        "1qaz2wsx",
        "qwer1234",
        "woaini1314",
        "iloveyou1",
        "admin123",
        "passw0rd",
        "zxcvbn123",
        "asdf1234",
        "aa123456",
        "qq123456",
    }
)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def _compact_phone(raw: str) -> str:
    """The typed number in ASCII digits, without spaces, dashes and brackets."""
    return _PHONE_SEPARATORS.sub("", ascii_digits(raw or ""))


def normalise_phone(raw: str) -> str | None:
    """Return the E.164 form of a mainland China mobile number, or None if it is not one.

    Accepts spaces, dashes, a ``+86``/``0086``/``86`` prefix and digits of any script
    (full-width ones, as Chinese input methods give them); what it returns is ASCII.
    """
    digits = _compact_phone(raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _CN_MOBILE.fullmatch(digits):
        return None
    return "+86" + digits


def phone_search_text(raw: str) -> str | None:
    """What a search box's text should find in stored phones (E.164, ``+86…``), when the
    text reads as all or part of a phone number; None when it does not (a name, say).

    A whole number is matched as :func:`normalise_phone` stores it, so any way of typing
    it finds the person; a partial one loses its spaces and dashes and keeps its digits.
    """
    compact = _compact_phone(raw)
    if not _PHONE_LIKE.fullmatch(compact):
        return None
    whole = normalise_phone(compact)
    if whole is not None:
        return whole
    if compact.startswith("0086"):
        return "+86" + compact[4:]
    return compact


ERASED_PREFIX = "erased-"
ERASED_NAME = "已注销 · erased"
"""The name an erased account shows where others once saw it (review queues, agency
lists): the same in every language, as a stored name is."""


def erased_phone(person_id: UUID) -> str:
    """What an erased account keeps in place of its number: unique (the column is), never
    a number anyone can register or be invited by, and free of the old number."""
    # The id's last digits: its first ones are its creation time (UUIDv7), which people
    # made in the same millisecond share.
    return ERASED_PREFIX + person_id.hex[-13:]


def is_erased_phone(phone: str) -> bool:
    return phone.startswith(ERASED_PREFIX)


def mask_phone(phone: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``: enough to recognise, not to call."""
    if is_erased_phone(phone):
        return "—"
    local = phone.removeprefix("+86")
    return f"+86 {local[:3]}****{local[-4:]}"


def spaced_phone(phone: str) -> str:
    """``+8613800138000`` → ``+86 138 0013 8000``, as people read a mainland number
    (anything else unchanged)."""
    if is_erased_phone(phone):
        return "—"
    local = phone.removeprefix("+86")
    if phone == local or len(local) != 11:
        return phone
    return f"+86 {local[:3]} {local[3:7]} {local[7:]}"


def phone_error(raw: str, field: str = "phone") -> tuple[str | None, FieldError | None]:
    phone = normalise_phone(raw)
    if phone is None:
        return None, FieldError(
            field, N_("Enter an 11-digit mainland China mobile number."), "invalid_phone"
        )
    return phone, None


def password_problem(password: str, phone: str | None = None) -> str | None:
    """Why the password is too weak, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("Use at least 8 characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("Use at most 128 characters.")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        return N_("Use both letters and digits.")
    if password.lower() in _COMMON_PASSWORDS:
        return N_("This password is too common.")
    if phone and phone[-8:] in password:
        return N_("Do not use your phone number in the password.")
    return None


def handle_problem(handle: str) -> str | None:
    if not _HANDLE.match(handle):
        return N_("2 to 30 letters, digits, Chinese characters, _ or .")
    return None


REGIONS = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
    "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西",
    "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏",
    "新疆", "香港", "澳门", "台湾",
)  # fmt: skip

REGION_NAMES = {
    "北京": "Beijing", "天津": "Tianjin", "河北": "Hebei", "山西": "Shanxi",
    "内蒙古": "Inner Mongolia", "辽宁": "Liaoning", "吉林": "Jilin", "黑龙江": "Heilongjiang",
    "上海": "Shanghai", "江苏": "Jiangsu", "浙江": "Zhejiang", "安徽": "Anhui", "福建": "Fujian",
    "江西": "Jiangxi", "山东": "Shandong", "河南": "Henan", "湖北": "Hubei", "湖南": "Hunan",
    "广东": "Guangdong", "广西": "Guangxi", "海南": "Hainan", "重庆": "Chongqing",
    "四川": "Sichuan", "贵州": "Guizhou", "云南": "Yunnan", "西藏": "Xizang", "陕西": "Shaanxi",
    "甘肃": "Gansu", "青海": "Qinghai", "宁夏": "Ningxia", "新疆": "Xinjiang",
    "香港": "Hong Kong", "澳门": "Macao", "台湾": "Taiwan",
}  # fmt: skip
"""The English name of each region, for English pages (stored values stay Chinese)."""

INTERESTS = {
    "美妆": "Beauty",
    "母婴": "Parenting",
    "美食": "Food",
    "游戏": "Games",
    "运动": "Sports",
    "旅行": "Travel",
    "数码": "Tech",
    "时尚": "Fashion",
    "宠物": "Pets",
    "汽车": "Cars",
    "教育": "Education",
    "音乐": "Music",
    "影视": "Film & TV",
    "家居": "Home",
    "三农": "Rural life",
    "搞笑": "Comedy",
}
MAX_INTERESTS = 8


def region_name(region: str, locale: str) -> str:
    """A stored region as a page in ``locale`` shows it."""
    return region if locale == "zh_CN" else REGION_NAMES.get(region, region)


def interest_name(interest: str, locale: str) -> str:
    """A stored interest as a page in ``locale`` shows it."""
    return interest if locale == "zh_CN" else INTERESTS.get(interest, interest)


# Stored values shown translated on pages.
LABELS = (N_("owner"), N_("member"), N_("brand"), N_("agency"), N_("sandbox"))
