"""What the apps above org add to its household pages, rules and API, without org importing them.

Each is filled in the adding app's AppConfig.ready() (members: the linked member of each household,
the 已联系/未联系 filter, the link panel, and the rule that a linked household stays in its branch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lianhu.common.registry import Registry, Slot


@dataclass(frozen=True)
class HouseholdFilter:
    """A filter of the household list, its export and its API (`?name=value`)."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]]  # (value, label), the list's drop-down
    apply: Callable  # (queryset, value) → queryset; value is one of the choices' values


@dataclass(frozen=True)
class HouseholdCell:
    """A column of the household rows (list and grid pages): a header and a template given `h`."""

    header: str
    template: str


@dataclass(frozen=True)
class HouseholdPanel:
    """A part of the household page: a template and its context (None leaves it out). `place` "facts"
    puts it among the facts at the top (a <dt>/<dd> pair), "main" below the residents."""

    template: str
    context: Callable  # (request, household) → dict | None
    place: str = "main"


@dataclass(frozen=True)
class BranchCard:
    """A figure shown as a card on the branch page: its label there and its key in the figure registry."""

    label: str
    figure: str
    order: int = 100


# (queryset) → queryset: what the cells, filters and API fields below need, prefetched once.
household_rows: Slot[Callable] = Slot("org.household_rows")
household_filters: Registry[HouseholdFilter] = Registry("household filter")
household_cells: Slot[HouseholdCell] = Slot("org.household_cells")
household_panels: Slot[HouseholdPanel] = Slot("org.household_panels")
# (household) → (id, name) of the member who looks after it now, or None: the API's `active_member`.
household_member: Slot[Callable] = Slot("org.household_member")
branch_cards: Slot[BranchCard] = Slot("org.branch_cards")
# Templates given `branch` (and the page's `can_*` flags): links to other apps' pages about the branch.
branch_links: Slot[str] = Slot("org.branch_links")
# (household ids) → {id: reason}: households that may not move to another branch now.
household_move_guards: Slot[Callable] = Slot("org.household_move_guards")


def move_refusals(household_ids) -> dict[int, str]:
    refusals: dict[int, str] = {}
    for guard in household_move_guards:
        for pk, reason in guard(household_ids).items():
            refusals.setdefault(pk, reason)
    return refusals
