"""Real spreadsheet files for the import tests, built the way villages build them."""

from __future__ import annotations

import io

from openpyxl import Workbook

from lianhu.org.sheets import HouseholdSheet

HOUSEHOLD_HEADER = [c.header for c in HouseholdSheet.columns]


def xlsx_bytes(rows, *, title: str | None = None, sheet: str = "Sheet1", merges=(), hidden_columns=(),
               before=(), after=(), text_columns=()) -> bytes:
    """A workbook whose data sheet holds `rows` (header first); `before`/`after` are extra (name, rows) sheets."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, extra in before:
        ws = workbook.create_sheet(name)
        for row in extra:
            ws.append(row)
    ws = workbook.create_sheet(sheet)
    if title:
        ws.append([title])
    for row in rows:
        ws.append(list(row))
    for cells in merges:
        ws.merge_cells(cells)
    for letter in hidden_columns:
        ws.column_dimensions[letter].hidden = True
    for letter in text_columns:
        for cell in ws[letter]:
            cell.number_format = "@"
    for name, extra in after:
        other = workbook.create_sheet(name)
        for row in extra:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def household_row(**values) -> list:
    """A row of the households template; keys are the column keys (code, branch, name …)."""
    keys = [c.key for c in HouseholdSheet.columns]
    unknown = set(values) - set(keys)
    assert not unknown, unknown
    return [values.get(k, "") for k in keys]


def households_file(*rows, title: str | None = "甲村户籍台账", **kwargs) -> bytes:
    """The households template's header and `rows` (dicts of column keys, or lists already in order)."""
    rows = [household_row(**r) if isinstance(r, dict) else r for r in rows]
    return xlsx_bytes([HOUSEHOLD_HEADER] + rows, title=title, **kwargs)
