"""Writing workbooks with xlsxwriter: templates and exports, and the uploaded file annotated with its problems."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange
from xlsxwriter.utility import xl_col_to_name

from .reading import Column, Problem, Table, _read_sheet

TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"


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
