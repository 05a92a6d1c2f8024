"""A domain sheet (RosterSheet), the outcome of an import, and import_file: all or nothing, in one transaction."""

from __future__ import annotations

import gc
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from .cells import CellError, MASKED, MASKED_FILE, Progress
from .reading import Column, Problem, Table, read_table
from .writing import write_workbook


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
    importable = True  # False: export only (no template, upload or import_xlsx)
    export_action = "view"  # what a web export needs of the user, and reads its rows and names its scope with
    personal_data = True  # False: nothing to mask or reveal, an export is never "脱敏"
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
