from __future__ import annotations


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lianhu.audit.services import audit_id_lookup, personal_data_reveal
from lianhu.common import figures
from lianhu.common.http import client_ip
from lianhu.common.models import SealedPersonalData
from lianhu.common.registry import apply_all
from lianhu.common.views import apply_validation_error, paginate, scoped_get_or_404

from .filters import HouseholdFilter
from .forms import BranchForm, GridForm, HouseholdForm, ResidentForm
from .hooks import branch_cards, branch_links, household_cells, household_filters, household_panels, household_rows
from .models import Branch, Grid, Household, Office, Resident
from .services import household_save, org_unit_save, resident_save


def list_params(request):
    """A list page's filters. Its form posts (an ID number searched for stays out of URLs, access logs
    and history), and the export buttons post the same form; a link with a query string works too."""
    return request.POST if request.method == "POST" else request.GET


@login_required
def branch_list(request):
    branches = (
        Branch.objects.visible_to(request.user)
        .select_related("office")
        .annotate(n_households=Count("households", distinct=True), n_grids=Count("grids", distinct=True))
    )
    return render(request, "org/branch_list.html", {"branches": branches})


@login_required
def branch_detail(request, pk):
    branch = scoped_get_or_404(request, Branch, pk)
    total = figures.compute([branch.pk]).total
    cards = [(card.label, total.get(card.figure)) for card in sorted(branch_cards, key=lambda c: c.order)]
    grids = Grid.objects.visible_to(request.user).filter(branch=branch).annotate(n=Count("households"))
    return render(request, "org/branch_detail.html", {"branch": branch, "cards": cards, "grids": grids,
                                                      "links": list(branch_links)})


@login_required
def branch_edit(request, pk=None):
    if pk is None:
        office = scoped_get_or_404(request, Office, request.GET.get("office") or request.POST.get("office") or 0, "edit_org")
        branch = Branch(office=office)
    else:
        branch = scoped_get_or_404(request, Branch, pk, "edit_org")
    form = BranchForm(request.POST or None, instance=branch)
    if request.method == "POST" and form.is_valid():
        org_unit_save(form=form, actor=request.user, ip=client_ip(request))
        messages.success(request, "支部已保存")
        return redirect("org:branch_detail", pk=branch.pk)
    return render(request, "org/form.html", {"form": form, "title": "新建支部" if pk is None else f"编辑支部：{branch}",
                                             "back": branch.get_absolute_url() if branch.pk else "/"})


@login_required
def grid_detail(request, pk):
    grid = scoped_get_or_404(request, Grid, pk)
    households = apply_all(household_rows, Household.objects.visible_to(request.user).filter(grid=grid)
                           .order_by("code").annotate(n_residents=Count("residents")))
    return render(request, "org/grid_detail.html", {"grid": grid, "page": paginate(request, households),
                                                    "cells": list(household_cells)})


@login_required
def grid_edit(request, pk=None):
    if pk is None:
        branch = scoped_get_or_404(request, Branch, request.GET.get("branch") or request.POST.get("branch") or 0, "edit_grids")
        grid = Grid(branch=branch)
    else:
        grid = scoped_get_or_404(request, Grid, pk, "edit_grids")
    form = GridForm(request.POST or None, instance=grid)
    if request.method == "POST" and form.is_valid():
        org_unit_save(form=form, actor=request.user, ip=client_ip(request))
        messages.success(request, "网格已保存")
        return redirect("org:grid_detail", pk=grid.pk)
    return render(request, "org/form.html", {"form": form, "title": "新建网格" if pk is None else f"编辑网格：{grid}",
                                             "hidden": {"branch": grid.branch_id}})


@login_required
def household_list(request):
    households = HouseholdFilter(list_params(request), user=request.user)
    households.refuse_out_of_scope()
    f = link_f = households.values
    if households.id_lookup:
        audit_id_lookup(request, households.id_lookup)
        link_f = {**f, "q": ""}  # never echoed into pagination links
    qs = apply_all(household_rows, households.results.select_related("branch", "grid")
                   .annotate(n_residents=Count("residents")))
    template = "org/_household_rows.html" if request.headers.get("HX-Request") else "org/household_list.html"
    return render(request, template, {
        "page": paginate(request, qs.order_by("code")), "f": f, "link_f": link_f, "cells": list(household_cells),
        "branches": Branch.objects.visible_to(request.user), "extra_filters": list(household_filters.values()),
    })


@login_required
def household_detail(request, pk):
    household = scoped_get_or_404(request, Household, pk, queryset=Household.objects.select_related("branch__office", "grid"))
    residents = Resident.objects.visible_to(request.user).filter(household=household)
    can_edit = Household.objects.visible_to(request.user, "edit_roster").filter(pk=household.pk).exists()
    panels = {"facts": [], "main": []}
    for panel in household_panels:
        context = panel.context(request, household)
        if context is not None:
            panels[panel.place].append((panel.template, context))
    return render(request, "org/household_detail.html", {
        "household": household, "residents": residents, "can_edit": can_edit, "panels": panels,
    })


@login_required
def household_edit(request, pk=None):
    if pk is None:
        household = Household()
    else:
        household = scoped_get_or_404(request, Household, pk, "edit_roster")
    form = HouseholdForm(
        request.POST or None, instance=household,
        branches=Branch.objects.visible_to(request.user, "edit_roster"),
        grids=Grid.objects.visible_to(request.user, "edit_roster"),
        initial={"branch": request.GET.get("branch"), "grid": request.GET.get("grid")} if pk is None else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            household = household_save(household=form.instance, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            apply_validation_error(form, e)
        else:
            messages.success(request, "户信息已保存")
            return redirect("org:household_detail", pk=household.pk)
    return render(request, "org/form.html", {"form": form, "title": "登记新户" if pk is None else f"编辑户：{household.code}"})


@login_required
def resident_edit(request, household_pk, pk=None):
    household = scoped_get_or_404(request, Household, household_pk, "edit_roster")
    if pk is None:
        resident = Resident(household=household)
    else:
        resident = scoped_get_or_404(request, Resident, pk, "edit_roster", queryset=Resident.objects.filter(household=household))
    form = ResidentForm(request.POST or None, instance=resident, editing=pk is not None)
    if request.method == "POST" and form.is_valid():
        try:
            resident_save(resident=form.instance, actor=request.user, ip=client_ip(request), **form.sealed_values())
        except ValidationError as e:
            apply_validation_error(form, e)
        else:
            messages.success(request, f"居民{resident.name}已保存")
            return redirect("org:household_detail", pk=household.pk)
    return render(request, "org/form.html", {
        "form": form, "title": f"{household.address}：{'添加居民' if pk is None else '编辑居民 ' + resident.name}",
        "back": household.get_absolute_url(),
    })


@login_required
@require_POST
def reveal(request, kind, pk, field):
    """Show one masked value in full (an htmx fragment); audited, and only for roles allowed to reveal."""
    model = {m.reveal_kind: m for m in SealedPersonalData.__subclasses__()}.get(kind)
    if model is None:
        raise Http404
    obj = scoped_get_or_404(request, model, pk)
    try:
        value = personal_data_reveal(user=request.user, obj=obj, field=field, ip=client_ip(request))
    except PermissionDenied:
        raise Http404 from None
    return render(request, "org/_revealed.html", {"value": value})
