"""The spreadsheet engine: reading the sheets villages keep, writing templates and ledgers (台账).

Reading uses python-calamine (Rust; about 15 times openpyxl's read speed, MEASURED.md) for .xlsx and
.xls, and the csv module for .csv in UTF-8 or GBK. The sheet and its header row are found by
matching header names, so title rows above the header, merged header cells, extra sheets and
columns in any order are all fine. Cells are normalised by the functions below (full-width digits,
invisible characters, dates in five spellings, ID numbers that Excel turned into numbers …); each
one either returns a clean value or raises CellError with a Chinese message for the problem list.

Writing uses xlsxwriter, row by row (constant_memory): a template or an export is the data sheet
(title row, header row, drop-downs fed from a hidden options sheet, ID columns formatted as text)
plus an instruction sheet. The domain's columns and row binding live in each app's `spreadsheets.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import heapq
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import NamedTuple
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum
import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange
from xlsxwriter.utility import xl_col_to_name

from .sheets import sheet_class, sheets
from .validators import IdNumber, clean_text, normalize_phone, parse_id_number

HEADER_SCAN_ROWS = 30  # the header is looked for in this many rows at the top of each sheet
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
Progress = Callable[[int, int, str], object]  # (done, total, phase)

# ---------------------------------------------------------------------------------------------
# Cells


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


# ---------------------------------------------------------------------------------------------
# Columns and problems


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its header, the other names villages give it, and how the template shows it."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False  # the header must be present in the file
    width: int = 12
    text_format: bool = False  # ID numbers, phones, codes: typed as text, so Excel keeps every digit
    options: str = ""  # name of the drop-down list in the template
    free_options: bool = False  # several values allowed: the drop-down only suggests
    sensitive: bool = False  # masked in exports for users who may not reveal
    note: str = ""


def normalise_header(value) -> str:
    label = clean_text(text(value)).strip("*:：")
    label = re.sub(r"\([^)]*\)$", "", label)  # 出生日期(yyyy-mm-dd) → 出生日期; NFKC made （ ） into ( )
    return label.strip("*")


@dataclass
class Problem:
    """One thing wrong with the file: where it is (as Excel numbers rows and letters columns) and why."""

    row: int  # 0: the file as a whole
    column: str  # the header as written in the file, or ""
    letter: str
    message: str
    level: str = "error"  # "error" blocks the import; "warning" does not

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def where(self) -> str:
        if not self.row:
            return "文件"
        place = f"第 {self.row} 行"
        return f"{place} {self.letter} 列（{self.column}）" if self.column else place


# ---------------------------------------------------------------------------------------------
# Reading


class SheetRows:
    """The data rows of a workbook sheet, read from calamine one at a time.

    A 100k-row sheet as Python lists takes about 100 MB on top of calamine's own copy; streamed,
    each row lives only while it is bound. Vertical merges below the header (a household's 户编号
    or 住址 merged over its rows) are filled in as the rows go by. len() is an estimate until the
    rows have been read once (blank rows are skipped).
    """

    def __init__(self, sheet, data_start: int, merges):
        self.sheet = sheet
        self.data_start = data_start
        self.offset = sheet.start[1] if sheet.start else 0  # iter_rows starts at the first used column
        self.merges = [(r0, c0, r1) for (r0, c0), (r1, _c1) in merges or () if r0 >= data_start and r1 > r0]
        self.count = max(0, sheet.end[0] + 1 - data_start) if sheet.end else 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[int, list]]:
        starts: dict[int, list[tuple[int, int]]] = {}
        for r0, c0, r1 in self.merges:
            starts.setdefault(r0, []).append((c0, r1))
        filling: dict[int, tuple[object, int]] = {}  # column -> (value, last row)
        pad = [""] * self.offset
        count = 0
        if not starts and not pad:  # the usual sheet: no merged cells below the header
            for r, cells in enumerate(islice(self.sheet.iter_rows(), self.data_start, None), start=self.data_start + 1):
                if not _blank(cells):
                    count += 1
                    yield r, cells
            self.count = count
            return
        for r, cells in enumerate(self.sheet.iter_rows()):
            if r < self.data_start:
                continue
            if pad:
                cells = pad + cells
            if filling:
                for c, (value, last) in list(filling.items()):
                    if r > last:
                        del filling[c]
                    elif c < len(cells):
                        cells[c] = value
            for c0, r1 in starts.get(r, ()):
                if c0 < len(cells):
                    filling[c0] = (cells[c0], r1)
            if not _blank(cells):
                count += 1
                yield r + 1, cells
        self.count = count


def _blank(cells: list) -> bool:
    """Whether a row holds nothing but empty cells and blanks (a 0 is a value)."""
    first = next(filter(None, cells), None)  # the first truthy cell, found in C: usually the first or second
    if first is not None and (first.__class__ is not str or first.strip()):
        return False
    return not any(c != "" and c is not None and (not isinstance(c, str) or c.strip()) for c in cells)


@dataclass
class Table:
    """The rows of the sheet that holds the data, with its header found and mapped to column keys."""

    filename: str
    sheet: str = ""
    header_row: int = 0  # as Excel numbers rows
    index: dict[str, int] = field(default_factory=dict)  # column key -> 0-based column index
    labels: dict[str, str] = field(default_factory=dict)  # column key -> header as written in the file
    ignored: list[str] = field(default_factory=list)
    rows: list[tuple[int, list]] | SheetRows = field(default_factory=list)  # (row number, cells)
    problems: list[Problem] = field(default_factory=list)

    def release(self) -> None:
        """Drop the raw cells (and calamine's copy of the sheet) once they are bound."""
        self.rows = []

    def problem(self, row: int, key: str, message: str, level: str = "error") -> Problem:
        column = self.index.get(key)
        p = Problem(row=row, column=self.labels.get(key, ""), message=message, level=level,
                    letter=xl_col_to_name(column) if column is not None else "")
        return p

    def getter(self, key: str) -> Callable[[list], object]:
        """cells -> the raw value of column `key` ("" when the column or the cell is missing)."""
        i = self.index.get(key)
        if i is None:
            return lambda cells: ""
        return lambda cells: cells[i] if i < len(cells) else ""

    def has(self, key: str) -> bool:
        return key in self.index


def detect_format(data: bytes, filename: str) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    return "csv"


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GBK, the two encodings Chinese Excel and WPS save CSV in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK
    except UnicodeDecodeError:
        raise CellError("CSV 文件的编码无法识别：请另存为 UTF-8 或 GBK 编码") from None


def _read_csv(data: bytes) -> list[list]:
    content = decode_csv(data)
    first = content[:4096].split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(content), delimiter=delimiter)]


def _fill_merged(grid: list[list], merges, header_rows: int) -> None:
    """Merged cells hold their value in the top-left cell only: copy it where it belongs.

    In the header area the whole range gets the value (a merged 身份证号 over two header rows, a
    group heading over several columns). Below it, only down the first column: a 户编号 or 住址
    merged over a household's rows belongs to each of them.
    """
    for (r0, c0), (r1, c1) in merges or ():
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        value = grid[r0][c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            last = min(c1, len(row) - 1) if r0 < header_rows else c0
            for c in range(c0, last + 1):
                if c < len(row):
                    row[c] = value


def _match_header(cells: list, lookup: dict[str, str], hidden: frozenset[int] = frozenset()) -> dict[str, int]:
    """Column key -> index of the first column of that meaning, a visible one before a hidden one
    (a stale 电话 column hidden beside the 手机号码 the village keeps up to date)."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if cell == "" or cell is None:
            continue
        key = lookup.get(normalise_header(cell))
        if key is not None and (key not in found or (found[key] in hidden and i not in hidden)):
            found[key] = i
    return found


_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_COL = re.compile(r"<(?:\w+:)?col\b([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def hidden_columns(data: bytes, sheet: str) -> frozenset[int]:
    """0-based indexes of the columns an .xlsx sheet hides; empty for other files or when unsure.

    calamine reads cells, not column widths, so the <cols> element at the head of the sheet's XML
    is read here (only the part before the cells)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
            rel = next((e.get(f"{_DOC_RELS}id") for e in book.iter() if e.tag.endswith("}sheet")
                        and e.get("name") == sheet), None)
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = next((e.get("Target") for e in rels.iter(f"{_RELS}Relationship") if e.get("Id") == rel), None)
            if target is None:
                return frozenset()
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            head = b""
            with z.open(path) as xml:
                while b"sheetData" not in head and len(head) < 4_000_000:
                    chunk = xml.read(65536)
                    if not chunk:
                        break
                    head += chunk
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return frozenset()
    hidden = set()
    for attrs in _COL.findall(head.split(b"sheetData", 1)[0].decode("utf-8", "replace")):
        a = dict(_ATTR.findall(attrs))
        if a.get("hidden") in ("1", "true") and a.get("min", "").isdigit() and a.get("max", "").isdigit():
            hidden.update(range(int(a["min"]) - 1, min(int(a["max"]), 16384)))
    return frozenset(hidden)


def header_lookup(columns: Sequence[Column]) -> dict[str, str]:
    lookup = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup.setdefault(normalise_header(name), column.key)
    return lookup


NOT_A_WORKBOOK = ("文件无法读取：扩展名是 Excel 的，内容却不是 Excel 表格（可能改过扩展名，或文件已损坏）。"
                  "请用 Excel 或 WPS 打开，另存为 .xlsx 后重新上传")


def read_table(data: bytes, filename: str, columns: Sequence[Column], kind: str = "") -> Table:
    """Find the sheet and header row that match `columns` best, and return the data rows below it.

    With `kind` (a key of SHEETS), a file whose header is another kind's sheet is refused: a 户籍
    sheet has 支部 and 姓名 columns, enough to pass for a members file, and would make every
    resident a party member.
    """
    table = Table(filename=filename)
    lookup = header_lookup(columns)
    fmt = detect_format(data, filename)
    # An .xlsx is always a zip; some systems do save a CSV or tab-separated table as ".xls", so that
    # is read as text all the same, and called no spreadsheet only if it holds no table either.
    renamed = fmt == "csv" and filename.lower().endswith((".xlsx", ".xlsm", ".xls"))
    candidates: list[tuple[str, list[list], object]] = []  # (sheet name, first rows, sheet)
    try:
        if fmt == "csv":
            grid = _read_csv(data)
            candidates.append(("CSV", grid, grid))
        else:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            metas = [m for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
            visible = [m for m in metas if m.visible == SheetVisibleEnum.Visible] or metas
            for meta in visible:
                sheet = workbook.get_sheet_by_name(meta.name)
                candidates.append((meta.name, sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS), sheet))
    except CellError as e:
        table.problems.append(Problem(0, "", "", NOT_A_WORKBOOK if renamed else str(e)))
        return table
    except (CalamineError, ValueError, OSError) as e:
        table.problems.append(Problem(0, "", "", f"文件无法读取（{e.__class__.__name__}）：请确认是 .xlsx、.xls 或 .csv 文件，且未加密、未损坏"))
        return table

    best = None  # (score, -sheet order, -row, ...)
    for order, (name, top, sheet) in enumerate(candidates):
        merges = getattr(sheet, "merged_cell_ranges", None) if not isinstance(sheet, list) else None
        top = [list(r) for r in top[:HEADER_SCAN_ROWS]]
        _fill_merged(top, merges, HEADER_SCAN_ROWS)
        for r, cells in enumerate(top):
            found = _match_header(cells, lookup)
            score = (len(found), -order, -r)
            if best is None or score > best[0]:
                best = (score, name, r, found, sheet, merges)
    required = [c for c in columns if c.required]
    if best is None or best[0][0] < max(2, len(required)):
        names = "、".join(c.header for c in columns[:8])
        no_table = renamed and (not filename.lower().endswith(".xls")
                                or sum(len(row) > 1 for row in candidates[0][1][:HEADER_SCAN_ROWS]) < 2)
        table.problems.append(Problem(0, "", "", NOT_A_WORKBOOK if no_table else
                                      f"没有找到表头：请使用下载的模板，表头应包含 {names} 等列"))
        return table

    _score, name, header_index, found, sheet, merges = best
    hidden = hidden_columns(data, name) if fmt == "xlsx" else frozenset()
    top = sheet if isinstance(sheet, list) else [list(r) for r in sheet.to_python(skip_empty_area=False,
                                                                                   nrows=header_index + 1)]
    # The header ends below any merged cell that starts on the header row (a header two rows tall).
    data_start = header_index + 1
    for (r0, _c0), (r1, _c1) in merges or ():
        if r0 <= header_index <= r1:
            data_start = max(data_start, r1 + 1)
    _fill_merged(top, merges, data_start)
    header = top[header_index]
    if hidden:
        found = _match_header(header, lookup, hidden)
    table.sheet, table.header_row = name, header_index + 1
    table.index = found
    table.labels = {key: text(header[i]) for key, i in found.items()}
    used = set(found.values())
    for i, cell in enumerate(header):
        if i in used or not text(cell):
            continue
        key = lookup.get(normalise_header(cell))  # a second column of the same meaning (联系电话 and 手机号)
        notes = (["隐藏列"] if i in hidden else []) + (
            [f"与“{table.labels[key]}”是同一项，只导入了“{table.labels[key]}”列"] if key is not None else [])
        table.ignored.append(text(cell) + (f"（{'，'.join(notes)}）" if notes else ""))
    for column in required:
        if column.key not in found:
            table.problems.append(Problem(table.header_row, column.header, "", f"缺少“{column.header}”列"))
    wrong = _other_kind(header, kind, found) if kind else None
    if wrong is not None:
        table.problems.append(Problem(0, "", "", wrong))
        return table
    if isinstance(sheet, list):  # CSV: already in memory
        for r in range(data_start, len(sheet)):
            if not _blank(sheet[r]):
                table.rows.append((r + 1, sheet[r]))
    else:
        table.rows = SheetRows(sheet, data_start, merges)
    return table


def _other_kind(header: list, kind: str, found: dict[str, int]) -> str | None:
    """What to say when the header is plainly another kind of sheet, or None.

    Plainly: it has at least two of the columns only that kind has (`RosterSheet.telling`: 与户主关系,
    自建房 for households; 入党日期, 状态 for members) and none of this kind's. Columns every roster
    may carry (支部, 姓名, 住址, 备注, 村民组) tell nothing."""
    mine = sheet_class(kind)
    if any(key in found for key in mine.telling):
        return None
    for other_kind, other in sheets.items():
        if other_kind == kind:
            continue
        theirs = _match_header(header, header_lookup([c for c in other.columns if c.key in other.telling]))
        if len(theirs) >= 2:
            telling = [text(header[i]) for i in sorted(theirs.values())]
            return (f"这个文件是{other.label}表（有“{'”“'.join(telling[:3])}”等列），不是{mine.label}："
                    f"请到“导入{other.label}”页面上传")
    return None


def _read_sheet(data: bytes, sheet: str) -> tuple[list[list], list]:
    """Every row of one sheet as it is, and its merged ranges (the annotated download shows the user his own sheet)."""
    if detect_format(data, "") == "csv":
        return _read_csv(data), []
    found = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet)
    return found.to_python(skip_empty_area=False), list(getattr(found, "merged_cell_ranges", None) or ())


# ---------------------------------------------------------------------------------------------
# Writing


# Cell formats by name, made once per workbook (xlsxwriter keeps one record per distinct format).
FORMATS = {
    "title": {"bold": True, "font_size": 14},
    "header": {"bold": True, "bg_color": "#F3EFE9"},
    "required": {"bold": True, "font_color": "#B71C1C", "bg_color": "#F3EFE9"},
    "bold": {"bold": True},
    "text": {"num_format": TEXT_FORMAT},
    "date": {"num_format": DATE_FORMAT},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm:ss"},
    "time": {"num_format": "hh:mm:ss"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "bad": {"bg_color": "#FDECEA"},
    "bad_text": {"bg_color": "#FDECEA", "num_format": TEXT_FORMAT},
    "message": {"font_color": "#B71C1C"},
}
_INVALID_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


@contextmanager
def _workbook(out, *, row_by_row: bool = True) -> Iterator[tuple[xlsxwriter.Workbook, dict]]:
    """An xlsxwriter workbook on a path or a binary stream, with FORMATS, written row by row
    (constant_memory) unless `row_by_row` is False: merged cells need the whole sheet in memory.

    Every value is written by its type (`_write_row`): a text cell that begins with "=" stays text,
    never a formula, and text that looks like a link is not made one.
    """
    target = os.fspath(out) if isinstance(out, os.PathLike) else out
    with xlsxwriter.Workbook(target, {"constant_memory": row_by_row, "strings_to_formulas": False,
                                      "strings_to_urls": False}) as workbook:
        yield workbook, {name: workbook.add_format(spec) for name, spec in FORMATS.items()}


def _write_row(ws, r: int, values: Sequence, formats: dict, cell_formats: Sequence | None = None) -> None:
    """One row of plain values: text, numbers, booleans and dates each as Excel's own kind of cell;
    None and "" leave the cell empty. `cell_formats`, when given, holds a format (or None) per value."""
    write_string, write_number = ws.write_string, ws.write_number
    for c, value in enumerate(values):
        style = cell_formats[c] if cell_formats is not None and c < len(cell_formats) else None
        kind = value.__class__
        if kind is str:
            if value:
                write_string(r, c, value, style)
            elif style is not None:
                ws.write_blank(r, c, None, style)
        elif kind is int or kind is float:
            write_number(r, c, value, style)
        elif value is None:
            if style is not None:
                ws.write_blank(r, c, None, style)
        elif kind is bool:
            ws.write_boolean(r, c, value, style)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(r, c, value, style or formats["datetime"])
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, value, style or formats["date"])
        elif isinstance(value, (dt.time, dt.timedelta)):
            ws.write_datetime(r, c, value, style or formats["time"])
        else:
            write_string(r, c, str(value), style)


def write_workbook(out, *, sheet_name: str, title: str, columns: Sequence[Column], rows: Iterable[list],
                   options: dict[str, list[str]], instructions: Sequence[str], required: Sequence[str] = (),
                   blank_rows: int = 2000) -> int:
    """Write a data sheet (title row, header row, rows) with drop-downs and an instruction sheet; return rows written."""
    with _workbook(out) as (workbook, formats):
        ws = workbook.add_worksheet(sheet_name)
        for i, column in enumerate(columns):
            # New cells typed into an ID, phone or code column stay text.
            ws.set_column(i, i, column.width, formats["text"] if column.text_format else None)
        ws.freeze_panes(2, 0)
        ws.write_string(0, 0, title, formats["title"])
        for i, c in enumerate(columns):
            ws.write_string(1, i, c.header, formats["required" if c.key in required else "header"])
        count = 0
        # ID numbers, phones and codes are text cells: one retyped in an export stays text too.
        styles = [formats["text"] if c.text_format else None for c in columns]
        for count, values in enumerate(rows, start=1):
            _write_row(ws, count + 1, values, formats, styles)

        # Drop-downs read their choices from a hidden sheet: a list typed into the rule itself is
        # limited to 255 characters, too few for an office's grids.
        lists = workbook.add_worksheet("选项")
        names = list(dict.fromkeys(c.options for c in columns if c.options and options.get(c.options)))
        # Row by row, as constant_memory writes: a cell written to a row already passed is dropped.
        for r in range(max((len(options[n]) for n in names), default=0)):
            _write_row(lists, r, [options[n][r] if r < len(options[n]) else None for n in names], formats)
        for i, column in enumerate(columns):
            if column.options not in names:
                continue
            col = xl_col_to_name(names.index(column.options))
            ws.data_validation(2, i, 1 + count + blank_rows, i, {
                "validate": "list", "source": f"='选项'!${col}$1:${col}${len(options[column.options])}",
                "ignore_blank": True, "show_error": not column.free_options,
                "error_message": f"请从下拉列表中选择{column.header}"})
        lists.hide()

        guide = workbook.add_worksheet("填写说明")
        guide.set_column(0, 0, 100)
        lines = [(line, formats["wrap"]) for line in instructions] + [("", None), ("各列说明", formats["bold"])]
        for column in columns:
            parts = [column.header + ("（必填）" if column.key in required else "")]
            if column.aliases:
                parts.append("也可写作：" + "、".join(column.aliases))
            if column.note:
                parts.append(column.note)
            if column.options and options.get(column.options):
                shown = options[column.options]
                parts.append("可选：" + "、".join(shown[:30]) + ("……" if len(shown) > 30 else ""))
            lines.append(("；".join(parts), formats["wrap"]))
        for r, (line, style) in enumerate(lines):
            if line:
                guide.write_string(r, 0, line, style)
    return count


MERGED_ROWS_KEPT = 20_000  # a problem sheet this long keeps the file's merged cells (held in memory to write)


def write_annotated(out, data: bytes, table: Table, problems: Sequence[Problem], *, note: str = "") -> None:
    """The user's own sheet again, with an 错误说明 column and the cells in question shaded.

    Merged cells (a title, a header two rows tall, a household's cells merged down its rows) are
    merged again, so that the corrected sheet reads as the original did; warnings are marked 提醒,
    apart from the errors that must be fixed.
    """
    by_row: dict[int, list[Problem]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    grid, merges = _read_sheet(data, table.sheet) if table.sheet else ([], [])
    if len(grid) > MERGED_ROWS_KEPT:
        merges = []
    width = max((len(r) for r in grid), default=0)
    text_columns = {i for key, i in table.index.items() if key in ("id_number", "phone", "code", "member_id_number")}
    with _workbook(out, row_by_row=not merges) as (workbook, formats):
        ws = workbook.add_worksheet(_INVALID_SHEET_NAME.sub("_", table.sheet or "Sheet1")[:31])
        for i in sorted(text_columns):
            ws.set_column(i, i, None, formats["text"])  # a corrected ID number typed in stays text
        ws.set_column(width, width, 60)
        header = table.header_row - 1
        wrong = {(p.row - 1, p.letter) for p in problems if p.level == "error"}  # the cells shaded

        def shade(r: int, c: int):
            if (r, xl_col_to_name(c)) in wrong:
                return formats["bad_text"] if c in text_columns else formats["bad"]
            return None

        for r, cells in enumerate(grid):
            row_problems = by_row.get(r + 1)
            if r == header:
                _write_row(ws, r, [*cells, *[""] * (width - len(cells)), "错误说明"], formats,
                           [formats["header"]] * width + [formats["required"]])
            elif row_problems:
                message = "；".join(("提醒 " if p.level != "error" else "") + (f"{p.column}：" if p.column else "")
                                   + p.message for p in row_problems)
                _write_row(ws, r, [*cells, *[""] * (width - len(cells)), message], formats,
                           [*(shade(r, c) for c in range(width)), formats["message"]])
            else:
                _write_row(ws, r, cells, formats)
        for (r0, c0), (r1, c1) in merges:
            if (r0, c0) == (r1, c1) or r0 >= len(grid) or c0 >= len(grid[r0]):
                continue
            # Merging writes the first cell again: with the format it was written with.
            value = grid[r0][c0]
            style = formats["header"] if r0 == header else shade(r0, c0)
            if style is None and isinstance(value, dt.date):
                style = formats["datetime" if isinstance(value, dt.datetime) else "date"]
            try:
                ws.merge_range(r0, c0, r1, c1, value, style)
            except OverlappingRange:  # a damaged file's ranges: the cells are all there, unmerged
                continue
        whole = [p.message for p in by_row.get(0, ())] + ([note] if note else [])
        if whole:
            extra = workbook.add_worksheet("整体问题")
            for r, message in enumerate(whole):
                extra.write_string(r, 0, message)


# ---------------------------------------------------------------------------------------------
# Imports and exports of a domain sheet


UPDATE_LIMIT = 500  # updated rows listed with what changes in them; the counts cover every row


class Update(NamedTuple):
    """A row that changes a registered record, and what it changes (names of columns, never values)."""

    row: int
    record: str  # 户 410173001001000012, 居民 王建国, 党员 李明
    change: str  # 联系电话、关爱标签; or what happens: 改由张三联系


@dataclass
class Outcome:
    """What an import would do (or did): counts per kind of row, problems, notes, the rows that update."""

    kind: str
    filename: str = ""
    sheet: str = ""
    rows: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)  # in row order, at most UPDATE_LIMIT
    applied: bool = False
    plan: object = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return sum(c.get("created", 0) + c.get("updated", 0) + c.get("ended", 0) for c in self.counts.values())

    def count(self, entity: str, what: str, n: int = 1) -> None:
        bucket = self.counts.setdefault(entity, {"created": 0, "updated": 0, "unchanged": 0})
        bucket[what] = bucket.get(what, 0) + n

    def list_updates(self, *sources: Iterable[Update]) -> None:
        """The first UPDATE_LIMIT updates by row, from sources each in row order: lazy ones are only
        read that far, so a file that changes 100k rows costs no more than one that changes 500."""
        self.updates = list(islice(heapq.merge(self.updates, *sources, key=itemgetter(0)), UPDATE_LIMIT))

    def summary_lines(self) -> list[str]:
        words = {"created": "新增", "updated": "更新", "unchanged": "不变", "ended": "结束"}
        return [
            f"{entity}：" + "，".join(f"{words[k]} {v:,}" for k, v in bucket.items() if k in words)
            for entity, bucket in self.counts.items()
        ]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "filename": self.filename, "sheet": self.sheet, "rows": self.rows,
                "counts": self.counts, "notes": self.notes, "ignored": self.ignored, "applied": self.applied}


class RosterSheet:
    """Base for a domain sheet: its columns, and how rows bind to (and come out of) the database.

    A sheet is built for one office and, from the web, one user: it looks everything up through
    `visible_to(user, action)`, so a branch outside the user's scope simply does not exist for it.
    From the command line (user None) the office is the whole scope.
    """

    kind = ""
    sheet_name = ""
    label = ""
    short_label = ""  # in the audit log, when shorter than the label
    action = "view"
    do_not_call_in_templates = True  # pages are given the class itself, for sheet.kind and sheet.label
    columns: tuple[Column, ...] = ()
    required_for_new: tuple[str, ...] = ()  # shown in red in the template
    telling: tuple[str, ...] = ()  # columns only this kind of sheet has: a file with them is this kind
    instructions: tuple[str, ...] = ()

    def __init__(self, *, office, user=None, action: str | None = None):
        self.office = office  # None only for a web export spanning offices (a zone's staff)
        self.user = user
        if action is not None:
            self.action = action  # exports look rows up with "view": whatever the list shows

    def scoped(self, model, office_path: str):
        qs = model.objects.all() if self.user is None else model.objects.visible_to(self.user, self.action)
        return qs if self.office is None else qs.filter(**{office_path: self.office})

    # To be provided by each sheet.
    def options(self) -> dict[str, list[str]]:
        return {}

    def validate(self, table: Table, progress: Progress | None = None, *, for_update: bool = False) -> Outcome:
        raise NotImplementedError

    def apply(self, outcome: Outcome, progress: Progress | None = None) -> None:
        raise NotImplementedError

    def export_queryset(self):
        raise NotImplementedError

    # The list page this sheet exports: its FilterSet (built with the request's filters and the user;
    # it has `refuse_out_of_scope()` and `results`), and the exported rows of a filtered list.
    filterset = None

    @classmethod
    def export_queryset_for(cls, filterset):
        return filterset.results

    @classmethod
    def revealable(cls, user, queryset) -> bool:
        """Whether the user may reveal every exported row: otherwise the whole export is masked."""
        allowed = queryset.model.objects.visible_to(user, "reveal").values("pk")
        return not queryset.exclude(pk__in=allowed).exists()

    def export_rows(self, queryset, *, masked: bool) -> Iterator[list]:
        raise NotImplementedError

    # Shared.
    def changed_columns(self, stored: dict, final: dict, fields: dict[str, str]) -> str:
        """The headers of the columns whose value changes, in the sheet's order, as a preview lists
        them: 联系电话、关爱标签. `fields` maps each compared field to its column's key (id_number_hash
        → id_number)."""
        changed = {key for f, key in fields.items() if stored[f] != final[f]}
        return "、".join(c.header for c in self.columns if c.key in changed)

    @cached_property
    def title(self) -> str:
        return f"{self.office.name if self.office else ''}{self.label}"

    def write_template(self, out) -> None:
        write_workbook(out, sheet_name=self.sheet_name, title=f"{self.title}（导入模板）", columns=self.columns,
                       rows=[], options=self.options(), instructions=self.instructions,
                       required=self.required_for_new, blank_rows=5000)

    def export_count(self, queryset) -> int:
        """How many rows `export_rows` gives (for a progress bar)."""
        return queryset.count()

    def write_export(self, out, queryset, *, masked: bool, scope: str = "",
                     progress: Callable[[Iterable], Iterable] | None = None) -> int:
        """`scope` says which rows these are when not the whole office's: a branch, the list's filters.
        `progress` wraps the rows as they are written (a tqdm bar on the command line)."""
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        title = f"{self.title}（{scope + '；' if scope else ''}导出于 {stamp}{'，已脱敏' if masked else ''}）"
        lines = list(self.instructions)
        if masked:
            lines.insert(0, "本表已脱敏（身份证号、电话只显示部分数字，居民姓名只显示姓，出生日期只到年，敏感标签以 *** 代替），"
                            "可发到微信群或对外报送，但不能再导入。")
        rows = self.export_rows(queryset, masked=masked)
        return write_workbook(out, sheet_name=self.sheet_name, title=title, columns=self.columns,
                              rows=progress(rows) if progress else rows, options=self.options(),
                              instructions=lines, required=self.required_for_new)


def import_file(sheet: RosterSheet, data: bytes, filename: str, *, apply: bool, progress: Progress | None = None,
                audit: Callable[[Outcome], object] | None = None, table: Table | None = None) -> Outcome:
    """Read, bind and (with apply=True, only when no row has an error) write, all in one transaction.

    Nothing is written unless every row is valid: validation runs inside the same transaction as
    the writes, so a rejected file leaves no row behind and a confirmed one is checked against the
    data as it is at that moment, not as it was at preview time.
    """
    table = table if table is not None and table.rows else read_table(data, filename, sheet.columns, sheet.kind)
    if table.problems:
        return Outcome(kind=sheet.kind, filename=filename, sheet=table.sheet, problems=list(table.problems),
                       ignored=table.ignored)
    # Hundreds of thousands of small tuples and no reference cycles: the cyclic collector would only
    # walk them again and again (about a fifth of the time of a 100k-row import).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if not apply:
            outcome = sheet.validate(table, progress)
        else:
            with transaction.atomic():
                outcome = sheet.validate(table, progress, for_update=True)
                outcome.filename = filename  # for the audit entry
                if outcome.ok:
                    sheet.apply(outcome, progress)
                    outcome.applied = True
                    if audit is not None:
                        audit(outcome)
        _masked_file(outcome)
        # The plan holds personal data in clear: drop it as soon as it is used, and before collecting
        # resumes, so that its objects are freed now rather than walked by the first collection.
        outcome.plan = None
    finally:
        if collecting:
            gc.enable()
    outcome.filename, outcome.sheet, outcome.ignored = filename, table.sheet, table.ignored
    return outcome


def _masked_file(outcome: Outcome, enough: int = 20) -> None:
    """A masked export sent back gets one message for the file, not one per masked cell (30k for an office).

    Only when masked cells are many and at least one for every other row: a roster with a few masked
    phones pasted in keeps its row numbers."""
    masked = sum(1 for p in outcome.problems if MASKED in p.message)
    if masked >= enough and masked * 2 >= outcome.rows:
        outcome.problems = [Problem(0, "", "", MASKED_FILE)] + [p for p in outcome.problems if MASKED not in p.message]


def chunks(items: Sequence, size: int = 2000) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def read_columns(table: Table, keys: Sequence[str], progress: Progress | None = None) -> tuple[list[int], list[tuple]]:
    """The data rows turned into columns: their sheet row numbers, and for each of `keys` its raw cells.

    Each row gives up its cells in one C call (itemgetter) and the columns are formed at the end, so
    that a column can be normalised once per distinct value (`normalise_column`) instead of once per
    cell. A column the file lacks is all blank. The raw rows (and calamine's sheet) are then released.
    """
    present = [k for k in keys if k in table.index]
    positions = [table.index[k] for k in present]
    width = max(positions, default=-1) + 1
    pick = itemgetter(*positions) if len(positions) > 1 else (lambda cells: (cells[positions[0]],))
    pad = [""] * width
    rows, total = table.rows, len(table.rows)
    numbers, picked = [], []
    add_number, add_cells = numbers.append, picked.append
    for n, cells in rows:
        if len(cells) < width:
            cells = cells + pad[len(cells):]
        add_number(n)
        add_cells(pick(cells))
        if progress and len(numbers) % 5000 == 0:
            progress(len(numbers), max(total, len(numbers)), "检查")
    table.release()
    found = dict(zip(present, zip(*picked))) if picked else {}
    del picked
    blank = ("",) * len(numbers)
    return numbers, [found.get(k, blank) for k in keys]


def normalise_column(cells: Sequence, func: Callable) -> tuple[list, dict[int, CellError]]:
    """func over a column, run once per distinct value: (values, {position: error}).

    Blank cells ("" or None) give None without calling func; so does a refused cell, whose error is
    returned by position. Names, branches, dates and tags repeat down a sheet; ID numbers and phones
    do not, and cost no more than a set and a dict look-up on top of their own check.
    """
    results = {}
    refused = False
    for raw in set(cells):
        if raw == "" or raw is None:
            results[raw] = None
            continue
        try:
            results[raw] = func(raw)
        except CellError as e:
            results[raw], refused = e, True
    values = list(map(results.__getitem__, cells))
    if (0 in results or 1 in results) and any(c.__class__ is bool for c in cells):
        # True == 1 and False == 0 share a key: in a column holding booleans (rare), those are read one by one.
        for i, raw in enumerate(cells):
            if raw.__class__ in (bool, int, float) and (raw == 0 or raw == 1):
                values[i] = _attempt(func, raw)
        refused = True
    errors = {}
    if refused:
        for i, value in enumerate(values):
            if isinstance(value, CellError):
                errors[i], values[i] = value, None
    return values, errors


def _attempt(func: Callable, raw):
    try:
        return func(raw)
    except CellError as e:
        return e
