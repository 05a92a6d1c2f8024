"""Reading a sheet: finding the header by its names, merged cells, hidden columns, the table of rows."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from xml.etree import ElementTree

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum
from xlsxwriter.utility import xl_col_to_name

from ..sheets import sheet_class, sheets
from ..validators import clean_text
from .cells import CellError, text

HEADER_SCAN_ROWS = 30  # the header is looked for in this many rows at the top of each sheet


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


ENCODING_UNKNOWN = "文件编码无法识别：请在 Excel/WPS 中另存为 UTF-8 CSV 或 xlsx"


def decode_csv(data: bytes) -> str:
    """The encodings Chinese Excel and WPS save CSV in: UTF-8 (with or without BOM), GBK (read as
    its superset GB18030), and UTF-16 ("Unicode text"), with a BOM or told by its NUL bytes."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, str]:
    """The text, and the encoding it was read in."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]  # the BOM says which end comes first, and is dropped
    else:
        encodings = [e for e in [_utf16_by_nuls(data)] if e] or ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    raise CellError(ENCODING_UNKNOWN)


def _utf16_by_nuls(data: bytes) -> str | None:
    """UTF-16 without a BOM: the ASCII of a table (digits, commas, line ends) puts a NUL byte after
    each character (little-endian) or before it (big-endian); text in other encodings has none."""
    sample = data[:65536]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd * 20 >= len(sample) and even * 8 <= odd:
        return "utf-16-le"
    if even * 20 >= len(sample) and odd * 8 <= even:
        return "utf-16-be"
    return None


def _misread(content: str, encoding: str) -> bool:
    """Whether text read as GB18030 is really in another encoding (Big5, Shift-JIS …): GB18030 reads
    almost any bytes, but theirs come out as rare characters, kana and symbols, where Chinese text
    is mostly the common characters of GB2312 (the first 64 KB are looked at)."""
    foreign = [c for c in content[:65536] if ord(c) > 127]
    if encoding != "gb18030" or len(foreign) < 4:
        return False
    common = 0
    for c in foreign:
        try:
            lead = c.encode("gb2312")[0]
        except UnicodeEncodeError:
            continue
        if lead >= 0xB0 or lead in (0xA1, 0xA3):  # hanzi, CJK and full-width punctuation
            common += 1
    return common * 3 < len(foreign) * 2


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
    except (CalamineError, ValueError, OSError, csv.Error) as e:
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
        if no_table:
            message = NOT_A_WORKBOOK
        elif fmt == "csv" and _misread(*_decode(data)):  # Big5 or Shift-JIS read as GB18030
            message = ENCODING_UNKNOWN
        else:
            message = f"没有找到表头：请使用下载的模板，表头应包含 {names} 等列"
        table.problems.append(Problem(0, "", "", message))
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
        if other_kind == kind or not other.importable:
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
