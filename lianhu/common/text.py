"""Plain-text tables for management commands, aligned in a terminal where Chinese takes two columns."""

import unicodedata


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def format_table(rows: list[list[str]], *, right_from: int | None = None, free_last: bool = False) -> list[str]:
    """Align columns; columns from `right_from` on are right-aligned; a free last column is not padded."""
    aligned = len(rows[0]) - 1 if free_last else len(rows[0])
    widths = [max(display_width(r[i]) for r in rows) for i in range(aligned)]
    lines = []
    for r in rows:
        cells = [pad(c, w, right=right_from is not None and i >= right_from) for i, (c, w) in enumerate(zip(r, widths))]
        if free_last:
            cells.append(r[-1])
        lines.append("  ".join(cells).rstrip())
    return lines
