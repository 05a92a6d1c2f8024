"""Read-only roll-ups of the liaison work; each is a fixed number of grouped queries, whatever the size."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from django.db.models import Count

from lianhu.members.models import DEFAULT_CAPACITY, LiaisonLink, MemberStatus, PartyMember
from lianhu.org.models import Branch, Household, Office


@dataclass
class LiaisonFigures:
    branches: int = 0
    members: int = 0
    members_linking: int = 0
    members_exempt: int = 0
    households: int = 0
    households_linked: int = 0
    households_unlinked: int = 0

    @property
    def households_per_linking_member(self) -> float | None:
        return round(self.households_linked / self.members_linking, 2) if self.members_linking else None

    @property
    def coverage(self) -> float | None:
        return round(100 * self.households_linked / self.households, 1) if self.households else None

    def as_dict(self) -> dict:
        return asdict(self)

    def add(self, other: LiaisonFigures) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class BranchRow:
    branch: Branch
    figures: LiaisonFigures
    reasons: list[str] = field(default_factory=list)

    @property
    def lagging(self) -> bool:
        return bool(self.reasons)


def liaison_figures(branches) -> tuple[LiaisonFigures, list[BranchRow]]:
    """Totals and per-branch figures for a queryset of branches (already scoped by the caller)."""
    branches = list(branches.select_related("office"))
    ids = [b.pk for b in branches]
    members = Counter()
    exempt = Counter()
    for row in (
        PartyMember.objects.filter(branch_id__in=ids)
        .exclude(status=MemberStatus.LEFT)
        .values("branch_id", "status")
        .annotate(n=Count("id"))
    ):
        members[row["branch_id"]] += row["n"]
        if row["status"] == MemberStatus.EXEMPT:
            exempt[row["branch_id"]] += row["n"]
    linking = Counter(
        {
            r["member__branch_id"]: r["n"]
            for r in LiaisonLink.objects.active()
            .filter(member__branch_id__in=ids)
            .values("member__branch_id")
            .annotate(n=Count("member_id", distinct=True))
        }
    )
    households = Counter(
        {r["branch_id"]: r["n"] for r in Household.objects.filter(branch_id__in=ids).values("branch_id").annotate(n=Count("id"))}
    )
    linked = Counter(
        {
            r["household__branch_id"]: r["n"]
            for r in LiaisonLink.objects.active()
            .filter(household__branch_id__in=ids)
            .values("household__branch_id")
            .annotate(n=Count("id"))
        }
    )

    total = LiaisonFigures()
    rows = []
    for b in branches:
        f = LiaisonFigures(
            branches=1,
            members=members[b.pk],
            members_linking=linking[b.pk],
            members_exempt=exempt[b.pk],
            households=households[b.pk],
            households_linked=linked[b.pk],
        )
        f.households_unlinked = f.households - f.households_linked
        total.add(f)
        rows.append(BranchRow(branch=b, figures=f, reasons=_lagging_reasons(f)))
    return total, rows


def figures_by_office(rows: list[BranchRow]) -> dict[int, LiaisonFigures]:
    """Add branch rows up per office (the zone overview), without another query."""
    totals: dict[int, LiaisonFigures] = {}
    for row in rows:
        totals.setdefault(row.branch.office_id, LiaisonFigures()).add(row.figures)
    return totals


def _lagging_reasons(f: LiaisonFigures) -> list[str]:
    reasons = []
    if f.households_unlinked:
        reasons.append(f"{f.households_unlinked} 户无人联系")
    per = f.households_per_linking_member
    if per is not None and per > DEFAULT_CAPACITY:
        reasons.append(f"人均联系 {per} 户，超过 {DEFAULT_CAPACITY} 户")
    if f.households and not f.members_linking:
        reasons.append("没有联户党员")
    return reasons


def office_figures(office: Office, user=None) -> tuple[LiaisonFigures, list[BranchRow]]:
    branches = Branch.objects.filter(office=office)
    if user is not None:
        branches = branches & Branch.objects.visible_to(user)
    return liaison_figures(branches)


def seed_sentence(figures: LiaisonFigures) -> str:
    """The figures in the words the office itself uses in its reports (see the seed newspaper page)."""
    return (
        f"参与“党员联系户”的村（社区）支部共{figures.branches}个，"
        f"共有{figures.members_linking}名党员参与联系服务群众{figures.households_linked}户，"
        f"因老、弱、病、残等丧失联户能力的党员{figures.members_exempt}名"
    )
