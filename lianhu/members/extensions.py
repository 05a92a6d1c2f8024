"""What members adds to org's household pages, rules, filters and API, and the member level of its scope.

Registered from MembersConfig.ready(): org declares the hooks (org/hooks.py) and never imports members.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q

from lianhu.org import hooks
from lianhu.org.models import Household, Resident

from .forms import LinkForm
from .models import LiaisonLink


def households_of_members(member_ids: list[int]) -> Q:
    """The member level of a household's scope: the households a member links now."""
    return Q(pk__in=LiaisonLink.objects.active().filter(member_id__in=member_ids).values("household_id"))


def residents_of_members(member_ids: list[int]) -> Q:
    return Q(household_id__in=LiaisonLink.objects.active().filter(member_id__in=member_ids).values("household_id"))


def with_active_links(households):
    """Each household's current link (at most one) as `active_links`, with its member."""
    return households.prefetch_related(
        Prefetch("links", queryset=LiaisonLink.objects.active().select_related("member"), to_attr="active_links"))


def linked_filter(households, value: str):
    active = Exists(LiaisonLink.objects.active().filter(household=OuterRef("pk")))
    return households.filter(active if value == "yes" else ~active)


def linked_households_stay(household_ids) -> dict[int, str]:
    """A household a member still links cannot move to another branch (members link their own branch)."""
    linked = LiaisonLink.objects.active().filter(household_id__in=household_ids).values_list("household_id", flat=True)
    return {pk: "该户仍由本支部党员联系，请先解除联系再迁往其他支部" for pk in linked}


def active_member(household):
    links = getattr(household, "active_links", None)
    return links[0].member if links else None


def _links_of(request, household) -> list:
    """The household's links the user may see, read once for both of the page's parts."""
    cache = request.__dict__.setdefault("_household_links", {})
    if household.pk not in cache:
        cache[household.pk] = list(LiaisonLink.objects.visible_to(request.user).filter(household=household)
                                   .select_related("member", "created_by", "ended_by"))
    return cache[household.pk]


def link_panel(request, household) -> dict:
    links = _links_of(request, household)
    active = next((link for link in links if link.ended_on is None), None)
    can_manage = Household.objects.visible_to(request.user, "manage_members").filter(pk=household.pk).exists()
    return {"household": household, "links": links, "active": active, "can_manage": can_manage,
            "link_form": LinkForm(household=household, user=request.user) if can_manage else None}


def member_fact(request, household) -> dict:
    return {"active": next((link for link in _links_of(request, household) if link.ended_on is None), None)}


def register() -> None:
    Household.scope.extend(member=households_of_members)
    Resident.scope.extend(member=residents_of_members)
    hooks.household_rows.add(with_active_links)
    hooks.household_filters.register("linked", hooks.HouseholdFilter(
        name="linked", label="联系情况", choices=(("yes", "已联系"), ("no", "未联系")), apply=linked_filter))
    hooks.household_cells.add(hooks.HouseholdCell(header="联系党员", template="members/_household_cell.html"))
    hooks.household_panels.add(hooks.HouseholdPanel(template="members/_household_member.html", context=member_fact,
                                                    place="facts"))
    hooks.household_panels.add(hooks.HouseholdPanel(template="members/_household_links.html", context=link_panel))
    hooks.household_member.add(active_member)
    hooks.household_move_guards.add(linked_households_stay)
    for order, label, figure in ((10, "党员", "members"), (20, "联户党员", "members_linking"),
                                 (30, "丧失联户能力", "members_exempt"), (50, "待安排联系党员", "households_unlinked")):
        hooks.branch_cards.add(hooks.BranchCard(label, figure, order=order))
    hooks.branch_links.add("members/_branch_links.html")
