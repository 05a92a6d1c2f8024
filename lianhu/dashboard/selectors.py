"""Read-only roll-ups of the registered figures (common.figures): per branch, per office, for the zone.

The dashboard composes what the apps register; it computes no figure of its own, and nobody imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lianhu.common import figures
from lianhu.common.figures import FigureRow, Period
from lianhu.members.models import DEFAULT_CAPACITY
from lianhu.org.models import Branch, Office

# The liaison figures as the seed page reports them (and `liaison_stats --format json` prints them).
LIAISON_KEYS = ("branches", "members", "members_linking", "members_exempt", "households", "households_linked",
                "households_unlinked")


@dataclass
class BranchRow:
    branch: Branch
    figures: FigureRow
    reasons: list[str] = field(default_factory=list)

    @property
    def lagging(self) -> bool:
        return bool(self.reasons)


def liaison_figures(branches, period: Period | None = None) -> tuple[FigureRow, list[BranchRow]]:
    """Totals and per-branch figures for a queryset of branches (already scoped by the caller)."""
    branches = list(branches.select_related("office"))
    table = figures.compute([b.pk for b in branches], period)
    rows = [BranchRow(branch=b, figures=table.rows[b.pk], reasons=_lagging_reasons(table.rows[b.pk])) for b in branches]
    return table.total, rows


def figures_by_office(rows: list[BranchRow]) -> dict[int, FigureRow]:
    """Add branch rows up per office (the zone overview), without another query."""
    totals: dict[int, FigureRow] = {}
    for row in rows:
        totals.setdefault(row.branch.office_id, FigureRow()).add(row.figures)
    return {office_id: total.derive() for office_id, total in totals.items()}


def _lagging_reasons(f: FigureRow) -> list[str]:
    reasons = []
    if f.households_unlinked:
        reasons.append(f"{f.households_unlinked} 户无人联系")
    per = f.households_per_linking_member
    if per is not None and per > DEFAULT_CAPACITY:
        reasons.append(f"人均联系 {per} 户，超过 {DEFAULT_CAPACITY} 户")
    if f.households and not f.members_linking:
        reasons.append("没有联户党员")
    return reasons


def office_figures(office: Office, user=None) -> tuple[FigureRow, list[BranchRow]]:
    branches = Branch.objects.filter(office=office)
    if user is not None:
        branches = branches & Branch.objects.visible_to(user)
    return liaison_figures(branches)


def seed_sentence(figures: FigureRow) -> str:
    """The figures in the words the office itself uses in its reports (see the seed newspaper page)."""
    return (
        f"参与“党员联系户”的村（社区）支部共{figures.branches}个，"
        f"共有{figures.members_linking}名党员参与联系服务群众{figures.households_linked}户，"
        f"因老、弱、病、残等丧失联户能力的党员{figures.members_exempt}名"
    )
