"""Checks for national codes: ID numbers (GB 11643), phone numbers, division and grid codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric

from .masking import mask_id_number

# Zero-width and no-break spaces, blanks, and the C0 control characters (a NUL cannot even be stored in a
# PostgreSQL text or JSON column).
_INVISIBLE = dict.fromkeys([*map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00a0\u3000 "), *range(0x20), 0x7F], None)


def clean_text(value: str) -> str:
    """NFKC-fold (full-width digits and letters become ASCII) and drop blanks and invisible characters."""
    return unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)


class IdNumber(NamedTuple):
    value: str
    kind: str  # "resident18", "legacy15", "foreigner"
    birth_date: date | None
    gender: str | None  # "M" / "F"
    warning: str = ""


_FOREIGNER_OLD = re.compile(r"[A-Z]{3}[0-9]{12}")  # 2004 style permanent residence card
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")


def parse_id_number(raw: str, today: date | None = None) -> IdNumber:
    """Validate an ID number; raise ValidationError with a Chinese message when it is garbage.

    18-digit numbers must pass the GB 11643 check digit (the 2017 foreigners' card uses the same
    layout starting with 9). Legacy 15-digit numbers have no check digit and are accepted when their
    birth date is a real date. An unknown region code is a warning only: region codes change.
    A caller checking many numbers passes `today` (a birth date may not be later than it).
    """
    # An ASCII letters-and-digits cell (the usual one) is already what clean_text would make of it.
    value = (raw if raw.__class__ is str and raw.isascii() and raw.isalnum() else clean_text(raw)).upper()
    if not value:
        raise ValidationError("身份证号不能为空", code="required")
    if today is None:
        today = timezone.localdate()  # the office's day (Asia/Shanghai), as the imports use
    if _ID18.fullmatch(value):
        if ric.calc_check_digit(value) != value[17]:  # takes the full number
            raise ValidationError("身份证号 %(v)s 校验位不正确", code="checksum", params={"v": mask_id_number(value)})
        birth = _birth(value[6:14])
        if birth is None or birth > today:
            raise ValidationError("身份证号 %(v)s 中的出生日期无效", code="birth", params={"v": mask_id_number(value)})
        gender = "M" if value[16] in "13579" else "F"
        if value[0] == "9":
            return IdNumber(value, "foreigner", birth, gender)
        if not region_known(value[:6]):
            return IdNumber(value, "resident18", birth, gender,
                            f"行政区划代码 {value[:6]} 不在号码库中（可能已调整），请核对")
        return IdNumber(value, "resident18", birth, gender)
    if _ID15.fullmatch(value):
        birth = _birth("19" + value[6:12])
        if birth is None or birth > today:
            raise ValidationError("15 位身份证号 %(v)s 中的出生日期无效", code="birth", params={"v": mask_id_number(value)})
        gender = "M" if value[14] in "13579" else "F"
        return IdNumber(value, "legacy15", birth, gender)
    if _FOREIGNER_OLD.fullmatch(value):
        return IdNumber(value, "foreigner", None, None)
    raise ValidationError(
        "身份证号 %(v)s 格式不正确：应为 18 位（末位可为 X）或旧版 15 位", code="format",
        params={"v": mask_id_number(value)}
    )


def id_key(value: str) -> str:
    """The form a clean ID number is hashed in, so that it is matched in: a legacy 15-digit number as
    the 18-digit number that replaced it (19 put before the year, the check digit added). One person
    is one person whichever of his two numbers a sheet carries."""
    if len(value) != 15 or not value.isdigit():  # the 2004 foreigners' card has 15 characters too
        return value
    body = value[:6] + "19" + value[6:]
    return body + ric.calc_check_digit(body + "0")  # stdnum reads 18 characters and ignores the last


@lru_cache(maxsize=4096)
def region_known(code: str) -> bool:
    """Whether the region code is one stdnum's table knows, or a new county of a city it knows.

    The code is where the number was issued, not where the person was born, so the year ranges in
    the table (e.g. 410184 only from 1994) are not held against a number. Counties and districts are
    added every few years (410173, Zhengzhou's airport zone, is not in the table): only a city
    (the first four digits) that has no county at all is questioned.
    """
    return _county_known(code) or _city_known(code[:4])


def _county_known(code: str) -> bool:
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


@lru_cache(maxsize=512)
def _city_known(city: str) -> bool:
    return any(_county_known(f"{city}{n:02d}") for n in range(1, 100))


_ID_LIKE = re.compile(r"^[0-9]{15}$|^[0-9]{17}[0-9X]$")


def looks_like_id_number(q: str) -> bool:
    """Whether a search box holds an ID number (full-width digits, a lower-case x, blanks included)."""
    return bool(_ID_LIKE.match(clean_text(q).upper()))


@lru_cache(maxsize=65536)
def _birth(yyyymmdd: str) -> date | None:
    """The date of YYYYMMDD digits, None when there is no such day (or it is before 1880).

    Cached: a roster of 100,000 people has a few tens of thousands of birth dates. Whether the date
    is in the future is the caller's check (today changes; the cache does not).
    """
    try:
        d = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return d if d.year >= 1880 else None


def normalize_phone(raw: str) -> str:
    """Return an 11-digit mobile number or a landline (area code + number); raise if neither."""
    value = clean_text(raw)
    value = re.sub(r"[-()（）]", "", value)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:  # 86 13800008888: the country code without its +
        value = value[2:]
    if re.fullmatch(r"1[3-9]\d{9}", value):
        return value
    if re.fullmatch(r"0\d{2,3}\d{7,8}", value):
        return value
    raise ValidationError("电话号码 %(v)s 格式不正确：应为 11 位手机号或带区号的固定电话", code="phone", params={"v": raw})


def validate_division_code(value: str) -> None:
    """12-digit statistical division code: 6-digit county + 3-digit street + 3-digit village."""
    if not re.fullmatch(r"\d{12}", value or ""):
        raise ValidationError("区划代码应为 12 位数字（县 6 位 + 乡镇街道 3 位 + 村社区 3 位）", code="division")


def validate_grid_code(value: str) -> None:
    """15-digit grid code: county 6 + street 3 + community 3 + grid 3."""
    if not re.fullmatch(r"\d{15}", value or ""):
        raise ValidationError("网格编码应为 15 位数字（县 6 + 街道 3 + 社区 3 + 网格 3）", code="grid")
