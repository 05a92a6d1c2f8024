"""Link proposals on the web: ask for one, review it, apply it or set it aside.

Every proposal is looked up with the "manage_members" action, so out of scope is a 404. A proposal
for a whole office needs someone who manages every branch of it (office staff); a branch secretary
asks for his own branch.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from lianhu.common.http import client_ip
from lianhu.common.views import ScopedFormView, ScopedObjectView
from lianhu.org.models import Branch, Office

from . import proposals
from .models import LinkProposal, ProposalStatus

ACTION = "manage_members"


class ProposalForm(forms.Form):
    rebalance = forms.BooleanField(
        label="同时调整现有联系", required=False,
        help_text="不勾选：保留现有联系，只为待安排的户安排党员。勾选：已有联系的户也可能换成更近的党员。",
    )
    margin = forms.IntegerField(
        label="调整阈值（米）", min_value=0, max_value=100_000, initial=proposals.DEFAULT_REBALANCE_MARGIN,
        required=False, help_text="只有步行距离能缩短超过该值的户才会更换联系党员，以保持联系关系稳定。",
    )


class ProposalCreateView(ScopedFormView):
    """Ask for a proposal (一键生成联系方案): POST from the buttons, or GET for the options form.

    Its parent is the branch asked for (?branch=, or posted), or else the office (?office=).
    """

    model, action = LinkProposal, ACTION
    template_name = "org/form.html"

    def get_parent(self) -> Branch | Office:
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        branch_id, office_id = data.get("branch", ""), data.get("office", "")
        if branch_id:
            return self.lookup(Branch.objects.select_related("office"), branch_id)
        office = self.lookup(Office.objects.all(), office_id)
        managed = Branch.objects.visible_to(self.request.user, ACTION).filter(office=office).values("pk")
        if Branch.objects.filter(office=office).exclude(pk__in=managed).exists():
            raise Http404  # an office-wide proposal would show branches this user does not manage
        return office

    def scope(self) -> tuple[Office, Branch | None]:
        parent = self.parent_object
        return (parent.office, parent) if isinstance(parent, Branch) else (parent, None)

    def get_form(self):
        return ProposalForm(self.request.POST or None)

    def form_valid(self, form):
        office, branch = self.scope()
        margin = None
        if form.cleaned_data["rebalance"]:
            margin = form.cleaned_data["margin"]
            margin = proposals.DEFAULT_REBALANCE_MARGIN if margin is None else margin
        proposal = proposals.proposal_create(office=office, branch=branch, actor=self.request.user,
                                             rebalance_margin=margin, ip=client_ip(self.request))
        return redirect(proposal)

    def get_context_data(self, form):
        office, branch = self.scope()
        return {
            "title": f"生成联系方案：{branch or office}", "submit": "生成联系方案",
            "hidden": {"branch": branch.pk} if branch else {"office": office.pk},
            "intro": "系统按同支部、可联系户数和步行距离最短提出方案；方案需经确认才会生效。",
            "back": reverse("members:needs_member") + (f"?branch={branch.pk}" if branch else ""),
        }


def _needs_member_url(proposal) -> str:
    """The "needs a member" list the proposal was made from."""
    return reverse("members:needs_member") + (f"?branch={proposal.branch_id}" if proposal.branch_id else "")


class ProposalDetailView(ScopedObjectView):
    model, action = LinkProposal, ACTION

    def get_queryset(self):
        return LinkProposal.objects.select_related("office", "branch", "created_by")

    def get(self, request, *args, **kwargs):
        proposal = self.object
        current = proposal.status == ProposalStatus.DRAFT and proposals.proposal_is_current(proposal)
        summary = proposal.summary
        members = summary.get("members", [])
        branch_names = {b["id"]: b["name"] for b in summary.get("branches", [])}
        return render(request, "members/proposal_detail.html", {
            "proposal": proposal, "current": current,
            "outdated": proposal.status == ProposalStatus.DRAFT and not current,
            "totals": summary.get("totals", {}),
            "changed_members": [m for m in members if m["changed"]],
            "other_members": [m for m in members if not m["changed"]],
            "branches": summary.get("branches", []),
            "short_branches": [b for b in summary.get("branches", []) if b["unplaced"]],
            "unplaced": [{**u, "branch_name": branch_names.get(u["branch"], "")} for u in summary.get("unplaced", [])],
            "changes": [{**c, "branch_name": branch_names.get(c["branch"], "")} for c in proposal.changes],
            "needs_member_url": _needs_member_url(proposal),
        })


class ProposalApplyView(ScopedObjectView):
    model, action = LinkProposal, ACTION
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        proposal = self.object
        try:
            count = proposals.proposal_apply(proposal=proposal, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
            return redirect(proposal)
        messages.success(request, f"联系方案已应用：{count} 户的联系党员已按方案安排")
        return redirect(_needs_member_url(proposal))


class ProposalDiscardView(ScopedObjectView):
    model, action = LinkProposal, ACTION
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        proposal = self.object
        try:
            proposals.proposal_discard(proposal=proposal, actor=request.user, ip=client_ip(request))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
            return redirect(proposal)
        messages.success(request, "联系方案已放弃，联系关系未作任何修改")
        return redirect(_needs_member_url(proposal))
