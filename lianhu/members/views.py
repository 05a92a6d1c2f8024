from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from lianhu.common.http import client_ip, parse_pk
from lianhu.common.views import ScopedFormView, ScopedObjectView, action_required, paginate
from lianhu.org.models import Branch, Household
from lianhu.org.views import filtered_list

from . import services
from .filters import MemberFilter
from .forms import ExemptForm, LeftForm, LinkForm, MemberForm, members_with_room
from .models import LiaisonLink, MemberStatus, PartyMember


@login_required
@action_required("view")
def member_list(request):
    members, f, link_f = filtered_list(request, MemberFilter)
    qs = members.results.select_related("branch", "grid").annotate(
        load=Count("links", filter=Q(links__ended_on__isnull=True)))
    return render(request, "members/member_list.html", {
        "page": paginate(request, qs.order_by("branch__code", "name")), "f": f, "link_f": link_f,
        "branches": Branch.objects.visible_to(request.user), "statuses": MemberStatus.choices,
    })


class MemberDetailView(ScopedObjectView):
    model = PartyMember

    def get_queryset(self):
        return PartyMember.objects.select_related("branch", "grid")

    def get(self, request, *args, **kwargs):
        member = self.object
        links = LiaisonLink.objects.visible_to(request.user).filter(member=member).select_related("household")
        active = [l for l in links if l.ended_on is None]
        return render(request, "members/member_detail.html", {
            "member": member, "active": active, "history": [l for l in links if l.ended_on is not None],
            "can_manage": self.allows("manage_members"),
        })


class MemberEditView(ScopedFormView):
    """A member, or a new one in a branch the user manages the members of (chosen on the form)."""

    model, action = PartyMember, "manage_members"
    template_name = "org/form.html"

    def get_form(self):
        return MemberForm(self.form_data, instance=self.object or PartyMember(), user=self.request.user,
                          editing=not self.creating,
                          initial={"branch": self.request.GET.get("branch")} if self.creating else None)

    def form_valid(self, form):
        actor, ip = self.request.user, client_ip(self.request)
        sealed = {"id_number": form.cleaned_data["id_number"], "phone": form.cleaned_data["phone"]}
        if self.creating:
            member = services.member_create(member=form.instance, actor=actor, ip=ip, **sealed)
        else:
            member = services.member_update(member=self.object, changes=form.changes(), actor=actor, ip=ip,
                                            expected_version=form.expected_version, **sealed)
        messages.success(self.request, f"党员{member.name}已保存")
        return redirect(member)

    def get_context_data(self, form):
        return {"title": "登记党员" if self.creating else f"编辑党员：{form.instance.name}"}


class MemberExemptView(ScopedFormView):
    """Record that a member can no longer link households; his households go to the "needs a member" list."""

    model, action = PartyMember, "manage_members"
    template_name = "org/form.html"

    def get_form(self):
        return ExemptForm(self.request.POST or None, initial={"since": timezone.localdate(), "post": self.object.post})

    def form_valid(self, form):
        member = self.object
        released = services.member_mark_exempt(member=member, actor=self.request.user, ip=client_ip(self.request),
                                               **form.cleaned_data)
        messages.success(self.request, f"已认定{member.name}丧失联户能力，{released} 户转入“待安排联系党员”")
        return redirect("members:needs_member")

    def get_context_data(self, form):
        member = self.object
        return {
            "title": f"认定不能联户：{member.name}",
            "intro": f"{member.name}现联系 {member.links.active().count()} 户。认定后这些户将转入“待安排联系党员”清单。",
            "submit": "确认认定",
        }


class MemberReinstateView(ScopedObjectView):
    model, action = PartyMember, "manage_members"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        member = self.object
        try:
            services.member_reinstate(member=member, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
        else:
            messages.success(request, f"{member.name}已恢复联户")
        return redirect(member)


class MemberLeftView(ScopedFormView):
    model, action = PartyMember, "manage_members"
    template_name = "org/form.html"

    def get_form(self):
        return LeftForm(self.request.POST or None, initial={"on": timezone.localdate()})

    def form_valid(self, form):
        member = self.object
        released = services.member_mark_left(member=member, on=form.cleaned_data["on"], actor=self.request.user,
                                             ip=client_ip(self.request))
        messages.success(self.request, f"{member.name}已转出，{released} 户转入“待安排联系党员”")
        return redirect("members:needs_member")

    def get_context_data(self, form):
        return {"title": f"党员转出：{self.object.name}", "submit": "确认转出"}


@login_required
@require_safe
@action_required("view")
def needs_member(request):
    """Households without an active link (待安排联系党员), with a member drop-down per branch; a page of
    those who manage members (404 to the others, as any page of an action they do not hold)."""
    if not request.user.can("manage_members"):
        raise Http404
    active = LiaisonLink.objects.active().filter(household=OuterRef("pk"))
    qs = (
        Household.objects.visible_to(request.user, "manage_members")
        .filter(~Exists(active)).select_related("branch", "grid").order_by("branch__code", "code")
    )
    branch = request.GET.get("branch", "")
    if (branch_pk := parse_pk(branch)) is not None:
        qs = qs.filter(branch_id=branch_pk)
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


class HouseholdLinkView(ScopedObjectView):
    """Give a household (of a branch whose members the user manages) a member to link it."""

    model, action = Household, "manage_members"
    pk_url_kwarg = "household_pk"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        household = self.object
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


class LinkEndView(ScopedObjectView):
    model, action = LiaisonLink, "manage_members"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        link = self.object
        try:
            services.link_end(link=link, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
        else:
            messages.success(request, "联系关系已解除")
        return redirect(link.household.get_absolute_url())
