"""Cells: each function normalises one kind of cell, or raises CellError with a Chinese message."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from django.core.exceptions import ValidationError

from ..validators import IdNumber, clean_text, normalize_phone, parse_id_number

Progress = Callable[[int, int, str], object]  # (done, total, phase)


class CellError(ValueError):
    """A cell whose value cannot be used; the message is shown to the user as it is."""


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+", re.IGNORECASE)
DIGITS_LOST = (
    "{what}存成了数字（Excel 显示为 {shown}）：Excel 的数字只保留 15 位有效数字，后面几位已经丢失，无法还原。"
    "请把这一列设为“文本”格式，重新录入{what}"
)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


MASKED = "是脱敏后的值"  # in the message of each masked cell (see `_masked_file`)
MASKED_FILE = ("这是脱敏导出的表格（身份证号、电话只显示部分数字），不能导入：请用有查看权限的账号点“导出”"
               "（不是“脱敏导出”）得到完整表格，修改后再导入")


def _digits_lost(value, what: str) -> CellError:
    shown = f"{value:.5E}" if _is_number(value) else str(value)
    return CellError(DIGITS_LOST.format(what=what, shown=shown))


def text(value) -> str:
    """Free text (addresses, notes): trimmed, zero-width characters dropped, inner spaces kept."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.translate(_ZERO_WIDTH).strip()
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return str(value).strip()


def compact(value) -> str:
    """Names and codes: full-width folded to ASCII, every blank and invisible character removed."""
    if isinstance(value, str) and value.isascii() and value.isalnum():
        return value
    return clean_text(text(value))


_FORMULA_TEXT = re.compile(r'="(.*)"')


def _masked(what: str, stars: str = "（含 *）") -> CellError:
    """A cell from a masked export: its value is gone, so its row cannot be imported."""
    return CellError(f"{what}{MASKED}{stars}，不能导入：请使用有查看权限的完整导出")


def digits_text(value) -> str:
    """A cell of digits kept as text the ways spreadsheets do it, without the wrapping: ="4101..."
    (how Excel keeps long numbers in a CSV) and '4101... (the apostrophe typed before digits)."""
    raw = compact(value)
    if raw[:1] == "'":
        return raw[1:]
    if raw[:2] == '="':
        wrapped = _FORMULA_TEXT.fullmatch(raw)
        return wrapped[1] if wrapped else raw
    return raw


def code(value, what: str = "编号") -> str:
    """A code typed as digits; one that Excel stored as a number longer than 15 digits has lost digits."""
    if _is_number(value):
        if abs(value) >= 1e15:
            raise _digits_lost(value, what)
        return _number_text(value)
    result = digits_text(value)
    if _SCIENTIFIC.fullmatch(result):
        raise _digits_lost(result, what)
    return result


_CHECK = frozenset("0123456789Xx")


def id_number(value, today: dt.date | None = None) -> IdNumber | None:
    """An ID number (GB 11643, legacy 15 digits, foreigners' cards); None when the cell is blank."""
    if value.__class__ is str and len(value) == 18 and value.isascii() and value[:17].isdigit() and value[17] in _CHECK:
        raw = value  # the usual cell: nothing to clean, neither masked nor shown as a number
    else:
        raw = _id_cell(value)
        if raw is None:
            return None
    try:
        return parse_id_number(raw, today)
    except ValidationError as e:
        message = e.messages[0]
        if len(raw) == 18 and raw.endswith("000"):
            message += "（末尾是 000：可能是 Excel 把身份证号当成数字，丢掉了后几位）"
        raise CellError(message) from None


def _id_cell(value) -> str | None:
    """An ID number cell cleaned for parse_id_number; None when blank; refused when its digits are lost."""
    if value.__class__ is not str:
        if value is None:
            return None
        if _is_number(value):
            if abs(value) >= 1e15 or not float(value).is_integer():
                raise _digits_lost(value, "身份证号")
            value = str(int(value))  # a 15-digit legacy number survives a numeric cell intact
    raw = digits_text(value)
    if not raw:
        return None
    if "*" in raw:
        raise _masked("身份证号")
    if _SCIENTIFIC.fullmatch(raw):
        raise _digits_lost(raw, "身份证号")
    return raw


def person_name(value) -> str:
    """A person's name, compacted; a masked one (王*, from a masked export) is refused."""
    name = compact(value)
    if "*" in name:
        raise _masked("姓名")
    return name


_CLEAN_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def phone(value) -> str:
    """A mobile or landline number, normalised (+86, dashes and spaces removed); "" when blank."""
    if value.__class__ is str and _CLEAN_MOBILE.fullmatch(value):
        return value  # already what normalize_phone would return (the usual cell: 11 ASCII digits)
    if _is_number(value):
        if not float(value).is_integer():
            raise CellError(f"电话号码 {value} 格式不正确")
        value = str(int(value))
    raw = digits_text(value)
    if not raw:
        return ""
    if "*" in raw:
        raise _masked("电话号码")
    try:
        return normalize_phone(raw)
    except ValidationError as e:
        raise CellError(e.messages[0]) from None


EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29 Feb 1900 that never was)
_DATE = re.compile(r"(\d{4})[年./\-](\d{1,2})[月./\-](\d{1,2})日?")
_TIME_PART = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def date(value) -> dt.date | None:
    """A date from a date cell, an Excel serial number or text: 1991-1-1, 1991/01/01, 1991.1.1, 1991年1月1日, 19910101."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if _is_number(value):
        if float(value).is_integer() and 18800101 <= value <= 21991231:
            raw = str(int(value))  # 19910101 typed into a General cell: read as the digits it shows
        elif _year_like(value):
            raise _no_day(value)  # as a serial it would be a day of 1905 (or of 2445)
        else:
            return _serial(value)
    else:
        raw = clean_text(_TIME_PART.sub("", text(value)))
    if not raw:
        return None
    match = _DATE.fullmatch(raw)
    if match:
        parts = match.groups()
    elif re.fullmatch(r"\d{8}", raw):
        parts = (raw[:4], raw[4:6], raw[6:])
    elif re.fullmatch(r"\d{5}(\.\d+)?", raw):  # a serial number that reached us as text (CSV)
        return _serial(float(raw))
    else:
        raise _no_day(raw)
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise CellError(f"日期“{raw}”不存在") from None


class PartialDate(NamedTuple):
    """A date written to the month or the year only (a roster's 出生年月: 1991.01, 1991年1月, 199101)."""

    text: str
    year: int
    months: tuple[int, ...]  # () for a year alone; two when a number cell dropped a 0 (1991.1: January or October)

    def fits(self, day: dt.date) -> bool:
        return day.year == self.year and (not self.months or day.month in self.months)

    @property
    def written_to(self) -> str:
        return "月" if self.months else "年"


_YEAR_MONTH = re.compile(r"(\d{4})(?:年|[./\-](\d{1,2})|年(\d{1,2})月)?")


def _year_like(number) -> bool:
    """A number that is a year (1991), a year and month (1991.01) or YYYYMM (199101), not a date."""
    return 1880 <= number < 2200 or (float(number).is_integer() and 188001 <= number <= 219912)


def partial_date(value) -> PartialDate | None:
    """The year (and month) of a cell that gives no day, or None when it is something else.

    A number from 1880 to 2199 is a year, its decimals the month (Excel shows 1991.01; as a number
    1991.10 became 1991.1, which may be either month). It is not an Excel serial number: those are
    days of 1905 there, a birth date no living resident has.
    """
    if isinstance(value, dt.date):  # a date cell (datetime included)
        return None
    if _is_number(value):
        if not _year_like(value):
            return None
        if value >= 188001:
            return partial_date(str(int(value)))  # 199101 typed into a General cell
        if abs(value - round(value, 2)) < 1e-6:
            value = round(value, 2)  # 1998.0700000001: how binary floats hold 1998.07
        raw = _number_text(value)
        year, _dot, fraction = raw.partition(".")
        if not fraction:
            return PartialDate(raw, int(year), ())
        if len(fraction) == 1 and fraction != "0":
            months = (int(fraction),) + ((int(fraction) * 10,) if int(fraction) * 10 <= 12 else ())
        elif len(fraction) == 2 and 1 <= int(fraction) <= 12:
            months = (int(fraction),)
        else:
            return None
        return PartialDate(raw, int(year), months)
    raw = clean_text(text(value))
    match = _YEAR_MONTH.fullmatch(raw) or re.fullmatch(r"(\d{4})(\d{2})()", raw)
    if match is None or not 1880 <= int(match[1]) < 2200:
        return None
    month = match[2] or match[3]
    if month is None:
        return PartialDate(raw, int(match[1]), ())
    if not 1 <= int(month) <= 12:
        return None
    return PartialDate(raw, int(match[1]), (int(month),))


def _no_day(value) -> CellError:
    """Why a cell is no date: written to the month or year only, or not at all readable."""
    partial = partial_date(value)
    if partial is not None:
        return CellError(f"日期“{partial.text}”只写到{partial.written_to}：请写到日，如 1991-01-01")
    shown = _number_text(value) if _is_number(value) else value
    return CellError(f"日期“{shown}”无法识别：请写成 1991-01-01、1991/1/1、1991.1.1 或 1991年1月1日")


def _serial(value: float) -> dt.date:
    if not 1 <= value < 2958466:
        raise CellError(f"日期“{_number_text(value)}”无法识别")
    return EXCEL_EPOCH + dt.timedelta(days=int(value))


def integer(value, *, low: int = 0, high: int = 32767, units: str = "") -> int | None:
    """A whole number, allowing a trailing unit such as 层 or 年; None when blank."""
    if _is_number(value):
        if not float(value).is_integer():
            raise CellError(f"应为整数，“{_number_text(value)}”不是")
        number = int(value)
    else:
        raw = compact(value)
        if not raw:
            return None
        if units:
            raw = raw.rstrip(units)
        if not re.fullmatch(r"-?\d+", raw):
            raise CellError(f"应为整数，“{raw}”不是")
        number = int(raw)
    if not low <= number <= high:
        raise CellError(f"应在 {low} 到 {high} 之间，“{number}”不在")
    return number


def field_rules(model, name: str, parse: Callable) -> Callable:
    """parse, then the model field's own validators (the ones its form runs), with their messages."""
    field = model._meta.get_field(name)
    validators = field.validators

    def check(value):
        parsed = parse(value)
        if parsed is not None:
            try:
                for validate in validators:  # the usual case, without run_validators' bookkeeping
                    validate(parsed)
            except ValidationError:
                try:
                    field.run_validators(parsed)  # again, for the message exactly as the form gives it
                except ValidationError as e:
                    raise CellError(e.messages[0]) from None
        return parsed

    return check


def decimal(value, *, low: float = float("-inf"), high: float = float("inf")) -> float | None:
    """A number such as a longitude; None when blank."""
    if _is_number(value):
        number = float(value)
    else:
        raw = compact(value)
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError:
            raise CellError(f"应为数字，“{raw}”不是") from None
    if not low <= number <= high:
        raise CellError(f"应在 {low:g} 到 {high:g} 之间，“{number:g}”不在")
    return number


YES = {"是", "有", "Y", "YES", "TRUE", "1", "√", "✓", "自建", "自建房"}
NO = {"否", "无", "不是", "N", "NO", "FALSE", "0", "×", "✗", "非自建"}


def boolean(value) -> bool | None:
    """是/否 (also Y/N, √/×, 1/0, TRUE/FALSE); None when blank."""
    if isinstance(value, bool):
        return value
    raw = compact(value).upper()
    if not raw:
        return None
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError(f"应填“是”或“否”，“{raw}”不是")


def choice(value, mapping: dict[str, str], what: str) -> str:
    """One of a few values, written as its label or any known synonym; "" when blank."""
    raw = compact(value)
    if not raw:
        return ""
    try:
        return mapping[raw]
    except KeyError:
        allowed = "、".join(dict.fromkeys(mapping.values()))
        raise CellError(f"“{raw}”不是可选的{what}：可选 {allowed}") from None


TAG_SEPARATORS = re.compile(r"[,，、;；/|\s]+")
NONE_WORDS = {"无", "没有", "-", "—", "/"}


def tags(value, allowed: Sequence[str], what: str, elsewhere: dict[str, str] | None = None) -> list[str] | None:
    """Several values in one cell (独居老人、留守儿童); None when blank, [] for an explicit 无.

    `elsewhere` names the column of tags that belong in another one (低保 → 敏感标签): a village's
    特殊群体 column mixes both."""
    raw = text(value)
    if not raw:
        return None
    if "*" in raw:
        raise _masked(what, stars="")
    if clean_text(raw) in NONE_WORDS:
        return []
    found = [clean_text(t) for t in TAG_SEPARATORS.split(raw) if clean_text(t)]
    unknown = [t for t in found if t not in allowed]
    misplaced = [t for t in unknown if elsewhere and t in elsewhere]
    if misplaced:
        raise CellError(f"“{'、'.join(misplaced)}”是{elsewhere[misplaced[0]]}，请填在“{elsewhere[misplaced[0]]}”列")
    if unknown:
        raise CellError(f"“{'、'.join(unknown)}”不是可选的{what}：可选 {'、'.join(allowed)}；多个请用顿号分隔")
    return [t for t in allowed if t in found]  # the order of the choices, so equal sets compare equal


class Memo:
    """Normalise each distinct raw value once: branch names, dates and tags repeat down a sheet."""

    def __init__(self, func: Callable):
        self.func = func
        self.cache: dict = {}

    def __call__(self, raw):
        try:
            hit = self.cache[raw]
        except KeyError:
            try:
                hit = (self.func(raw), None)
            except CellError as e:
                hit = (None, e)
            self.cache[raw] = hit
        if hit[1] is not None:
            raise hit[1]
        return hit[0]
