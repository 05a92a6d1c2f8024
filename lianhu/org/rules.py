"""Rules of the hierarchy shared by forms, services, the API and the imports: one rule, one place."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q

from .models import Branch, Grid

from lianhu.common.conflicts import conflict

GRID_NOT_IN_BRANCH = "网格不属于所选支部"


def grid_in_branch(grid, branch_id: int | None) -> None:
    """A household's or member's grid must lie in his branch (a conflict on `grid` otherwise: the grid's
    branch is stored data)."""
    if grid is not None and branch_id is not None and grid.branch_id != branch_id:
        raise conflict(GRID_NOT_IN_BRANCH, "grid")


def roster_branches(user, action: str = "edit_roster"):
    """Branches `user` may register households in: those whose roster he edits, or that hold a grid whose
    roster he edits. A grid worker's write actions hold at his own level, the grid, so his branch is not
    his to edit, yet a household of his grid must name it; the grid is checked on its own, and must lie
    in the branch (`grid_in_branch`). The form, the API and the import all choose the branch from here."""
    grids = Grid.objects.visible_to(user, action).values("branch_id")
    return Branch.objects.filter(Q(pk__in=Branch.objects.visible_to(user, action).values("pk")) | Q(pk__in=grids))


def grid_named(grids_by_branch: dict, branch_id: int, name: str):
    """(grid, None) for the grid called `name` in the branch, or (None, the problem to report on the row).

    `grids_by_branch` maps each branch id in the importer's scope to {grid name: grid}."""
    grid = grids_by_branch.get(branch_id, {}).get(name)
    if grid is not None:
        return grid, None
    if any(name in names for names in grids_by_branch.values()):
        return None, GRID_NOT_IN_BRANCH
    return None, f"网格“{name}”不存在（或不在您的管理范围内）"


def form_grid_in_branch(form, grid, branch) -> None:
    """The same rule on a form: the error is shown on its grid field, what was typed kept."""
    try:
        grid_in_branch(grid, branch.pk if branch is not None else None)
    except ValidationError as e:
        form.add_error("grid", e.message_dict["grid"])
