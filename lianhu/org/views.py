from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lianhu.audit.services import audit_id_lookup, client_ip, personal_data_reveal
from lianhu.common.models import id_number_hash
from lianhu.common.validators import looks_like_id_number
from lianhu.common.views import apply_validation_error, list_filters, paginate, scoped_get_or_404
from lianhu.members.models import LiaisonLink, PartyMember
from lianhu.members.forms import LinkForm
from lianhu.dashboard.selectors import liaison_figures

from .forms import BranchForm, GridForm, HouseholdForm, ResidentForm
from .models import Branch, Grid, Household, Office, Resident
from .services import household_save, org_unit_save, resident_save

INITIALS_LIKE = re.compile(r"^[a-zA-Z]{1,10}$")


def search_households(qs, q: str):
    """Search by address or code, by a resident's name, pinyin initials or exact ID number (keyed hash)."""
    q = q.strip()
    if not q:
        return qs
    if looks_like_id_number(q):
        return qs.filter(residents__id_number_hash=id_number_hash(q)).distinct()
    if INITIALS_LIKE.match(q):
        return qs.filter(residents__name_initials__startswith=q.lower()).distinct()
    return qs.filter(
        Q(address__contains=q) | Q(code__startswith=q) | Q(residents__name__contains=q)
    ).distinct()


def _active_link_prefetch():
    return Prefetch("links", queryset=LiaisonLink.objects.active().select_related("member"), to_attr="active_links")


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
    total, _ = liaison_figures(Branch.objects.filter(pk=branch.pk))
    grids = Grid.objects.visible_to(request.user).filter(branch=branch).annotate(n=Count("households"))
    return render(request, "org/branch_detail.html", {"branch": branch, "figures": total, "grids": grids})


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
    households = (
        Household.objects.visible_to(request.user).filter(grid=grid).order_by("code")
        .prefetch_related(_active_link_prefetch()).annotate(n_residents=Count("residents"))
    )
    return render(request, "org/grid_detail.html", {"grid": grid, "page": paginate(request, households)})


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


def household_queryset(user, params) -> tuple:
    """The households list's filters (q, branch, grid, linked) in the user's scope: the list and its export share them."""
    qs = Household.objects.visible_to(user)
    f = {k: params.get(k, "") for k in ("q", "branch", "grid", "linked")}
    if f["branch"].isdigit():
        qs = qs.filter(branch_id=f["branch"])
    if f["grid"].isdigit():
        qs = qs.filter(grid_id=f["grid"])
    active = LiaisonLink.objects.active().filter(household=OuterRef("pk"))
    if f["linked"] == "yes":
        qs = qs.filter(Exists(active))
    elif f["linked"] == "no":
        qs = qs.filter(~Exists(active))
    return search_households(qs, f["q"]), f


@login_required
def household_list(request):
    qs, f = household_queryset(request.user, list_filters(request))
    link_f = f
    if looks_like_id_number(f["q"]):
        audit_id_lookup(request, f["q"])
        link_f = {**f, "q": ""}  # never echoed into pagination links
    branches = Branch.objects.visible_to(request.user)
    qs = qs.select_related("branch", "grid").prefetch_related(_active_link_prefetch()).annotate(n_residents=Count("residents"))
    template = "org/_household_rows.html" if request.headers.get("HX-Request") else "org/household_list.html"
    return render(request, template, {"page": paginate(request, qs.order_by("code")), "f": f, "link_f": link_f,
                                     "branches": branches})


@login_required
def household_detail(request, pk):
    household = scoped_get_or_404(request, Household, pk, queryset=Household.objects.select_related("branch__office", "grid"))
    residents = Resident.objects.visible_to(request.user).filter(household=household)
    links = LiaisonLink.objects.visible_to(request.user).filter(household=household).select_related("member", "created_by", "ended_by")
    active = next((l for l in links if l.ended_on is None), None)
    can_manage = Household.objects.visible_to(request.user, "manage_members").filter(pk=household.pk).exists()
    can_edit = Household.objects.visible_to(request.user, "edit_roster").filter(pk=household.pk).exists()
    link_form = LinkForm(household=household, user=request.user) if can_manage else None
    return render(request, "org/household_detail.html", {
        "household": household, "residents": residents, "links": links, "active": active,
        "can_manage": can_manage, "can_edit": can_edit, "link_form": link_form,
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
    model = {"resident": Resident, "member": PartyMember}.get(kind)
    if model is None:
        raise Http404
    obj = scoped_get_or_404(request, model, pk)
    try:
        value = personal_data_reveal(user=request.user, obj=obj, field=field, ip=client_ip(request))
    except PermissionDenied:
        raise Http404 from None
    return render(request, "org/_revealed.html", {"value": value})
