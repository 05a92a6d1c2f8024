from __future__ import annotations


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from lianhu.audit.lookups import audit_id_lookup
from lianhu.audit.services import personal_data_reveal
from lianhu.common import figures
from lianhu.common.http import client_ip
from lianhu.common.models import SealedPersonalData
from lianhu.common.registry import apply_all
from lianhu.common.views import Parent, ScopedFormView, ScopedObjectView, action_required, paginate

from .filters import HouseholdFilter
from .forms import BranchForm, GridForm, HouseholdForm, ResidentForm
from .hooks import branch_cards, branch_links, household_cells, household_filters, household_panels, household_rows
from .models import Branch, Grid, Household, Office, Resident
from .rules import roster_branches
from .services import household_create, household_update, org_unit_save, resident_create, resident_update


def list_params(request):
    """A list page's filters. Its form posts (an ID number searched for stays out of URLs, access logs
    and history), and the export buttons post the same form; a link with a query string works too."""
    return request.POST if request.method == "POST" else request.GET


def filtered_list(request, filterset_class):
    """A list page's filterset, from the posted form or the query string. A branch or grid outside the
    user's scope is 404; a search by ID number is an audited, counted look-up. Returns the filterset,
    the filters to show again, and those for the pagination links (never the ID number searched for)."""
    filterset = filterset_class(list_params(request), user=request.user)
    filterset.refuse_out_of_scope()
    shown = links = filterset.values
    if filterset.id_lookup:
        audit_id_lookup(request, filterset.id_lookup)
        links = {**shown, "q": ""}
    return filterset, shown, links


@login_required
@require_safe
@action_required("view")
def branch_list(request):
    branches = (
        Branch.objects.visible_to(request.user)
        .select_related("office")
        .annotate(n_households=Count("households", distinct=True), n_grids=Count("grids", distinct=True))
    )
    return render(request, "org/branch_list.html", {"branches": branches})


class BranchDetailView(ScopedObjectView):
    model = Branch

    def get(self, request, *args, **kwargs):
        branch = self.object
        total = figures.compute([branch.pk]).total
        cards = [(card.label, total.get(card.figure)) for card in sorted(branch_cards, key=lambda c: c.order)]
        grids = Grid.objects.visible_to(request.user).filter(branch=branch).annotate(n=Count("households"))
        return render(request, "org/branch_detail.html", {"branch": branch, "cards": cards, "grids": grids,
                                                          "links": list(branch_links)})


class BranchEditView(ScopedFormView):
    """A branch, or a new one in the office of ?office= (the form posts back to the same address)."""

    model, action = Branch, "edit_org"
    parent = Parent(Office, param="office")
    template_name = "org/form.html"

    def get_form(self):
        return BranchForm(self.request.POST or None, instance=self.object or Branch(office=self.parent_object))

    def form_valid(self, form):
        branch = org_unit_save(form=form, actor=self.request.user, ip=client_ip(self.request))
        messages.success(self.request, "支部已保存")
        return redirect("org:branch_detail", pk=branch.pk)

    def get_context_data(self, form):
        branch = form.instance
        return {"title": "新建支部" if self.creating else f"编辑支部：{branch}",
                "back": branch.get_absolute_url() if branch.pk else "/"}


class GridDetailView(ScopedObjectView):
    model = Grid

    def get(self, request, *args, **kwargs):
        households = apply_all(household_rows, Household.objects.visible_to(request.user).filter(grid=self.object)
                               .order_by("code").annotate(n_residents=Count("residents")))
        return render(request, "org/grid_detail.html", {"grid": self.object, "page": paginate(request, households),
                                                        "cells": list(household_cells)})


class GridEditView(ScopedFormView):
    """A grid, or a new one in the branch of ?branch= (posted back with the form)."""

    model, action = Grid, "edit_grids"
    parent = Parent(Branch, param="branch")
    template_name = "org/form.html"

    def get_form(self):
        return GridForm(self.request.POST or None, instance=self.object or Grid(branch=self.parent_object))

    def form_valid(self, form):
        grid = org_unit_save(form=form, actor=self.request.user, ip=client_ip(self.request))
        messages.success(self.request, "网格已保存")
        return redirect("org:grid_detail", pk=grid.pk)

    def get_context_data(self, form):
        grid = form.instance
        return {"title": "新建网格" if self.creating else f"编辑网格：{grid}", "hidden": {"branch": grid.branch_id}}


@login_required
@action_required("view")
def household_list(request):
    households, f, link_f = filtered_list(request, HouseholdFilter)
    qs = apply_all(household_rows, households.results.select_related("branch", "grid")
                   .annotate(n_residents=Count("residents")))
    template = "org/_household_rows.html" if request.headers.get("HX-Request") else "org/household_list.html"
    return render(request, template, {
        "page": paginate(request, qs.order_by("code")), "f": f, "link_f": link_f, "cells": list(household_cells),
        "branches": Branch.objects.visible_to(request.user), "extra_filters": list(household_filters.values()),
    })


class HouseholdDetailView(ScopedObjectView):
    model = Household

    def get_queryset(self):
        return Household.objects.select_related("branch__office", "grid")

    def get(self, request, *args, **kwargs):
        household = self.object
        residents = Resident.objects.visible_to(request.user).filter(household=household)
        can_edit = self.allows("edit_roster")
        panels = {"facts": [], "main": []}
        for panel in household_panels:
            context = panel.context(request, household)
            if context is not None:
                panels[panel.place].append((panel.template, context))
        return render(request, "org/household_detail.html", {
            "household": household, "residents": residents, "can_edit": can_edit, "panels": panels,
        })


class HouseholdEditView(ScopedFormView):
    """A household, or a new one in a branch and grid the user edits the roster of (chosen on the form)."""

    model, action = Household, "edit_roster"
    template_name = "org/form.html"

    def get_form(self):
        user, get = self.request.user, self.request.GET
        return HouseholdForm(
            self.form_data, instance=self.object or Household(),
            branches=roster_branches(user),
            grids=Grid.objects.visible_to(user, "edit_roster"),
            initial={"branch": get.get("branch"), "grid": get.get("grid")} if self.creating else None,
        )

    def form_valid(self, form):
        actor, ip = self.request.user, client_ip(self.request)
        if self.creating:
            household = household_create(household=form.instance, actor=actor, ip=ip)
        else:
            household = household_update(household=self.object, changes=form.changes(), actor=actor, ip=ip,
                                         expected_version=form.expected_version)
        messages.success(self.request, "户信息已保存")
        return redirect("org:household_detail", pk=household.pk)

    def get_context_data(self, form):
        return {"title": "登记新户" if self.creating else f"编辑户：{form.instance.code}"}


class ResidentEditView(ScopedFormView):
    """A resident of the household in the URL, or a new one; both found with "edit_roster"."""

    model, action = Resident, "edit_roster"
    parent = Parent(Household, url_kwarg="household_pk")
    template_name = "org/form.html"

    def get_form(self):
        return ResidentForm(self.form_data, instance=self.object or Resident(household=self.parent_object),
                            editing=not self.creating)

    def form_valid(self, form):
        actor, ip = self.request.user, client_ip(self.request)
        if self.creating:
            resident = resident_create(resident=form.instance, actor=actor, ip=ip, **form.sealed_values())
        else:
            resident = resident_update(resident=self.object, changes=form.changes(), actor=actor, ip=ip,
                                       expected_version=form.expected_version, **form.sealed_values())
        messages.success(self.request, f"居民{resident.name}已保存")
        return redirect("org:household_detail", pk=self.parent_object.pk)

    def get_context_data(self, form):
        household = self.parent_object
        return {"title": f"{household.address}：{'添加居民' if self.creating else '编辑居民 ' + form.instance.name}",
                "back": household.get_absolute_url()}


class RevealView(ScopedObjectView):
    """Show one masked value in full (an htmx fragment); audited, and only for roles allowed to reveal."""

    http_method_names = ["post"]

    def get_queryset(self):
        model = {m.reveal_kind: m for m in SealedPersonalData.__subclasses__()}.get(self.kwargs["kind"])
        if model is None:
            raise Http404
        return model.objects.all()

    def post(self, request, *args, **kwargs):
        try:
            value = personal_data_reveal(user=request.user, obj=self.object, field=kwargs["field"],
                                         ip=client_ip(request))
        except PermissionDenied:
            raise Http404 from None
        return render(request, "org/_revealed.html", {"value": value})
