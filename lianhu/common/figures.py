"""The figure registry: named numbers each app supplies, for a set of branches and a period.

An app registers a `FigureSet`: the figures it knows (key, label, unit and 口径, the definition a
report must state) and one function computing them for many branches at once, in a fixed number of
grouped queries. Counts add up from branches to an office or zone; a rate is `derived` from the
counts of its row, so an office's rate is computed from the office's counts, never averaged.

    table = compute(branch_ids, Period.on(date))     # every registered figure
    table.total.households_linked, table.rows[branch_id].coverage

The dashboard, the briefing and the star indicators read figures only through here, so a star
indicator can be bound to a figure by its key and frozen when the assessment is submitted, and a
report can ask for a month or a year.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .registry import Registry

Number = int | float | None


@dataclass(frozen=True)
class Period:
    """A date, a month or a year: figures are stated as of `end` (stocks) or over the period (flows)."""

    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def on(cls, day: dt.date) -> Period:
        return cls(day, day, f"{day:%Y-%m-%d}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last), f"{year}年{month}月")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年")

    @classmethod
    def today(cls) -> Period:
        from django.utils import timezone

        return cls.on(timezone.localdate())

    def reaches_today(self) -> bool:
        """Whether the period ends today or later: stocks are then read as they stand now."""
        from django.utils import timezone

        return self.end >= timezone.localdate()


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    definition: str  # 口径
    # A rate or ratio computed from the other figures of its row (a branch, or the total); None: a
    # count, computed per branch and added up.
    derived: Callable[[FigureRow], Number] | None = None


@dataclass(frozen=True)
class FigureSet:
    name: str
    figures: tuple[Figure, ...]
    # (branch ids, period) → {branch id: {key: count}} for the set's counted figures; a branch left out is 0.
    compute: Callable[[Sequence[int], Period], dict[int, dict[str, int]]]


figure_sets: Registry[FigureSet] = Registry("figure set")
figures: Registry[Figure] = Registry("figure")
_by_key = figures  # for register_figures, whose `figures` argument hides the registry's name


def register_figures(name: str, *, figures: Iterable[Figure],
                     compute: Callable[[Sequence[int], Period], dict[int, dict[str, int]]]) -> FigureSet:
    figure_set = FigureSet(name=name, figures=tuple(figures), compute=compute)
    for figure in figure_set.figures:
        _by_key.register(figure.key, figure)
    return figure_sets.register(name, figure_set)


class FigureRow(dict):
    """One row of figures (a branch, or a total): a dict with the keys readable as attributes too."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def add(self, other: FigureRow) -> None:
        for key, value in other.items():
            if figures.get(key) is not None and figures[key].derived is None:
                self[key] = self.get(key, 0) + (value or 0)

    def derive(self) -> FigureRow:
        for figure in figures.values():
            if figure.derived is not None:
                self[figure.key] = figure.derived(self)
        return self


@dataclass
class FigureTable:
    period: Period
    rows: dict[int, FigureRow] = field(default_factory=dict)  # branch id → its figures
    total: FigureRow = field(default_factory=FigureRow)

    def sum(self, branch_ids: Iterable[int]) -> FigureRow:
        """The counts of some of the rows added up (an office's branches), rates derived again."""
        row = FigureRow({f.key: 0 for f in figures.values() if f.derived is None})
        for pk in branch_ids:
            row.add(self.rows[pk])
        return row.derive()


def compute(branch_ids: Sequence[int], period: Period | None = None, *, sets: Iterable[str] | None = None) -> FigureTable:
    """Every registered figure (or those of `sets`) for these branches, already scoped by the caller."""
    period = period or Period.today()
    chosen = [figure_sets[name] for name in sets] if sets is not None else list(figure_sets.values())
    counted = [f.key for s in chosen for f in s.figures if f.derived is None]
    rows = {pk: FigureRow(dict.fromkeys(counted, 0)) for pk in branch_ids}
    for figure_set in chosen:
        for pk, values in figure_set.compute(list(branch_ids), period).items():
            rows[pk].update(values)
    table = FigureTable(period=period, rows=rows)
    table.total = table.sum(branch_ids)
    for row in rows.values():
        row.derive()
    return table


def ratio(numerator: str, denominator: str, *, percent: bool = False, places: int = 2) -> Callable[[FigureRow], Number]:
    """A derived figure: numerator / denominator of the same row (None when the denominator is 0)."""

    def derived(row: FigureRow) -> Number:
        d = row.get(denominator) or 0
        if not d:
            return None
        value = (row.get(numerator) or 0) / d
        return round(100 * value, 1) if percent else round(value, places)

    return derived
