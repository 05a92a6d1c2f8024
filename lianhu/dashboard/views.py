from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from lianhu.accounts.models import Role
from lianhu.common.views import action_required, scoped_get_or_404
from lianhu.org.models import Branch, Household, Office, Relation, Resident, Zone

from .selectors import figures_by_office, liaison_figures, office_figures, seed_sentence


@login_required
@require_safe
def home(request):
    """Send each role to the page it works from."""
    m = request.user.primary_membership
    if m is None:
        if request.user.is_superuser:
            return redirect("dashboard:zone_overview")
        return render(request, "dashboard/no_role.html")
    if m.role == Role.ZONE_ADMIN:
        return redirect("dashboard:zone_overview")
    if m.role in (Role.OFFICE_ADMIN, Role.OFFICE_STAFF):
        return redirect("dashboard:office_overview", pk=m.office_id)
    if m.role == Role.BRANCH_SECRETARY:
        return redirect("org:branch_detail", pk=m.branch_id)
    if m.role == Role.GRID_WORKER:
        return redirect("org:grid_detail", pk=m.grid_id)
    if m.role == Role.MEMBER:
        return redirect("dashboard:my_households")
    if m.role == Role.AUDIT_ADMIN:
        return redirect("audit:audit_list")
    return redirect("org:branch_list")


@login_required
@require_safe
@action_required("view")
def zone_overview(request):
    branches = Branch.objects.visible_to(request.user)
    _total, rows = liaison_figures(branches)
    by_office = figures_by_office(rows)
    offices = Office.objects.visible_to(request.user).filter(pk__in=by_office.keys())
    zone = Zone.objects.visible_to(request.user).first()
    return render(request, "dashboard/zone_overview.html",
                  {"zone": zone, "rows": [(office, by_office[office.pk]) for office in offices]})


@login_required
@require_safe
def office_overview(request, pk):
    office = scoped_get_or_404(request, Office, pk)
    total, rows = office_figures(office, request.user)
    rows.sort(key=lambda r: (not r.lagging, r.branch.code))
    # A secretary or advisor sees only his branches: the page must not pass them off as the office's.
    partial = total.branches < Branch.objects.filter(office=office).count()
    return render(
        request,
        "dashboard/office_overview.html",
        {"office": office, "total": total, "rows": rows, "sentence": seed_sentence(total), "partial": partial,
         "lagging": sum(1 for r in rows if r.lagging)},
    )


@login_required
@require_safe
@action_required("view")
def my_households(request):
    """A member's own households (我的联系户), built for a small phone screen."""
    # The member the user is scoped as, so this list and the scoping can never disagree.
    member = next((m.member for m in request.user.active_memberships if m.role == Role.MEMBER), None)
    households = (
        Household.objects.visible_to(request.user)
        .filter(links__member=member, links__ended_on__isnull=True)
        .select_related("grid")
        .prefetch_related(Prefetch("residents", queryset=Resident.objects.only(
            "id", "household_id", "name", "relation", "care_tags", "gender", "birth_year")))
        .order_by(F("last_visited_at").asc(nulls_first=True), "code")
        if member is not None
        else Household.objects.none()
    )
    households = list(households)
    for h in households:
        # One chip per special group, however many residents of the household share it.
        h.care_tags = sorted({tag for r in h.residents.all() for tag in r.care_tags})
        h.head = next((r for r in h.residents.all() if r.relation == Relation.HEAD), None)
    return render(request, "dashboard/my_households.html", {"member": member, "households": households})
