from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from lianhu.audit.services import audit_id_lookup
from lianhu.common.http import client_ip
from lianhu.common.views import apply_validation_error, paginate, scoped_get_or_404
from lianhu.org.models import Branch, Household
from lianhu.org.views import list_params

from . import services
from .filters import MemberFilter
from .forms import ExemptForm, LeftForm, LinkForm, MemberForm, members_with_room
from .models import LiaisonLink, MemberStatus, PartyMember


@login_required
def member_list(request):
    members = MemberFilter(list_params(request), user=request.user)
    members.refuse_out_of_scope()
    f = link_f = members.values
    if members.id_lookup:
        audit_id_lookup(request, members.id_lookup)
        link_f = {**f, "q": ""}
    qs = members.results.select_related("branch", "grid").annotate(
        load=Count("links", filter=Q(links__ended_on__isnull=True)))
    return render(request, "members/member_list.html", {
        "page": paginate(request, qs.order_by("branch__code", "name")), "f": f, "link_f": link_f,
        "branches": Branch.objects.visible_to(request.user), "statuses": MemberStatus.choices,
    })


@login_required
def member_detail(request, pk):
    member = scoped_get_or_404(request, PartyMember, pk, queryset=PartyMember.objects.select_related("branch", "grid"))
    links = LiaisonLink.objects.visible_to(request.user).filter(member=member).select_related("household")
    active = [l for l in links if l.ended_on is None]
    can_manage = PartyMember.objects.visible_to(request.user, "manage_members").filter(pk=member.pk).exists()
    return render(request, "members/member_detail.html", {
        "member": member, "active": active, "history": [l for l in links if l.ended_on is not None],
        "can_manage": can_manage,
    })


@login_required
def member_edit(request, pk=None):
    member = PartyMember() if pk is None else scoped_get_or_404(request, PartyMember, pk, "manage_members")
    form = MemberForm(request.POST or None, instance=member, user=request.user, editing=pk is not None,
                      initial={"branch": request.GET.get("branch")} if pk is None else None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_save(member=form.instance, actor=request.user, ip=client_ip(request),
                                          id_number=form.cleaned_data["id_number"], phone=form.cleaned_data["phone"])
        except ValidationError as e:
            apply_validation_error(form, e)
        else:
            messages.success(request, f"党员{member.name}已保存")
            return redirect(member)
    return render(request, "org/form.html", {"form": form, "title": "登记党员" if pk is None else f"编辑党员：{member.name}"})


@login_required
def member_exempt(request, pk):
    """Record that a member can no longer link households; his households go to the "needs a member" list."""
    member = scoped_get_or_404(request, PartyMember, pk, "manage_members")
    form = ExemptForm(request.POST or None, initial={"since": timezone.localdate(), "post": member.post})
    if request.method == "POST" and form.is_valid():
        try:
            released = services.member_mark_exempt(member=member, actor=request.user, ip=client_ip(request),
                                                   **form.cleaned_data)
        except ValidationError as e:
            apply_validation_error(form, e)
        else:
            messages.success(request, f"已认定{member.name}丧失联户能力，{released} 户转入“待安排联系党员”")
            return redirect("members:needs_member")
    return render(request, "org/form.html", {
        "form": form, "title": f"认定不能联户：{member.name}",
        "intro": f"{member.name}现联系 {member.links.active().count()} 户。认定后这些户将转入“待安排联系党员”清单。",
        "submit": "确认认定",
    })


@login_required
@require_POST
def member_reinstate(request, pk):
    member = scoped_get_or_404(request, PartyMember, pk, "manage_members")
    try:
        services.member_reinstate(member=member, actor=request.user, ip=client_ip(request))
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, f"{member.name}已恢复联户")
    return redirect(member)


@login_required
def member_left(request, pk):
    member = scoped_get_or_404(request, PartyMember, pk, "manage_members")
    form = LeftForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        released = services.member_mark_left(member=member, on=form.cleaned_data["on"], actor=request.user,
                                             ip=client_ip(request))
        messages.success(request, f"{member.name}已转出，{released} 户转入“待安排联系党员”")
        return redirect("members:needs_member")
    return render(request, "org/form.html", {"form": form, "title": f"党员转出：{member.name}", "submit": "确认转出"})


@login_required
def needs_member(request):
    """Households without an active link (待安排联系党员), with a member drop-down per branch."""
    active = LiaisonLink.objects.active().filter(household=OuterRef("pk"))
    qs = (
        Household.objects.visible_to(request.user, "manage_members")
        .filter(~Exists(active)).select_related("branch", "grid").order_by("branch__code", "code")
    )
    branch = request.GET.get("branch", "")
    if branch.isdigit():
        qs = qs.filter(branch_id=branch)
    page = paginate(request, qs)
    choices: dict[int, list[PartyMember]] = {}
    for m in members_with_room(request.user, {h.branch_id for h in page}):
        if m.load < m.capacity:
            choices.setdefault(m.branch_id, []).append(m)
    for h in page:
        h.member_choices = choices.get(h.branch_id, [])
    return render(request, "members/needs_member.html", {
        "page": page, "branches": Branch.objects.visible_to(request.user, "manage_members"), "branch": branch,
    })


@login_required
@require_POST
def household_link(request, household_pk):
    household = scoped_get_or_404(request, Household, household_pk, "manage_members")
    form = LinkForm(request.POST, household=household, user=request.user)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            services.link_create(member=member, household=household, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
        else:
            messages.success(request, f"{household.address} 已由{member.name}联系")
    else:
        messages.error(request, "请选择一名有空余联系名额的本支部党员")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = household.get_absolute_url()
    return redirect(next_url)


@login_required
@require_POST
def link_end(request, pk):
    link = scoped_get_or_404(request, LiaisonLink, pk, "manage_members")
    try:
        services.link_end(link=link, actor=request.user, ip=client_ip(request))
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, "联系关系已解除")
    return redirect(link.household.get_absolute_url())
