"""Link proposals on the web: ask for one, review it, apply it or set it aside.

Every proposal is looked up with the "manage_members" action, so out of scope is a 404. A proposal
for a whole office needs someone who manages every branch of it (office staff); a branch secretary
asks for his own branch.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from lianhu.common.http import client_ip
from lianhu.common.views import apply_validation_error, scoped_get_or_404
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


def _scope_of(request, data) -> tuple[Office, Branch | None]:
    """The office and branch asked for, found through the scoped querysets (404 otherwise)."""
    branch_id, office_id = data.get("branch", ""), data.get("office", "")
    if branch_id:
        branch = scoped_get_or_404(request, Branch, branch_id if branch_id.isdigit() else 0, ACTION,
                                   queryset=Branch.objects.select_related("office"))
        return branch.office, branch
    office = scoped_get_or_404(request, Office, office_id if office_id.isdigit() else 0, ACTION)
    managed = Branch.objects.visible_to(request.user, ACTION).filter(office=office).values("pk")
    if Branch.objects.filter(office=office).exclude(pk__in=managed).exists():
        raise Http404  # an office-wide proposal would show branches this user does not manage
    return office, None


@login_required
def proposal_create(request):
    """Ask for a proposal (一键生成联系方案): POST from the buttons, or GET for the options form."""
    data = request.POST if request.method == "POST" else request.GET
    office, branch = _scope_of(request, data)
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        margin = None
        if form.cleaned_data["rebalance"]:
            margin = form.cleaned_data["margin"]
            margin = proposals.DEFAULT_REBALANCE_MARGIN if margin is None else margin
        try:
            proposal = proposals.proposal_create(office=office, branch=branch, actor=request.user,
                                                 rebalance_margin=margin, ip=client_ip(request))
        except ValidationError as e:
            apply_validation_error(form, e)
        else:
            return redirect(proposal)
    return render(request, "org/form.html", {
        "form": form, "title": f"生成联系方案：{branch or office}", "submit": "生成联系方案",
        "hidden": {"branch": branch.pk} if branch else {"office": office.pk},
        "intro": "系统按同支部、可联系户数和步行距离最短提出方案；方案需经确认才会生效。",
        "back": reverse("members:needs_member") + (f"?branch={branch.pk}" if branch else ""),
    })


@login_required
def proposal_detail(request, pk):
    proposal = scoped_get_or_404(request, LinkProposal, pk, ACTION,
                                 queryset=LinkProposal.objects.select_related("office", "branch", "created_by"))
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
        "needs_member_url": reverse("members:needs_member") + (f"?branch={proposal.branch_id}"
                                                                if proposal.branch_id else ""),
    })


@login_required
@require_POST
def proposal_apply(request, pk):
    proposal = scoped_get_or_404(request, LinkProposal, pk, ACTION)
    try:
        count = proposals.proposal_apply(proposal=proposal, actor=request.user, ip=client_ip(request))
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect(proposal)
    messages.success(request, f"联系方案已应用：{count} 户的联系党员已按方案安排")
    return redirect(reverse("members:needs_member") + (f"?branch={proposal.branch_id}" if proposal.branch_id else ""))


@login_required
@require_POST
def proposal_discard(request, pk):
    proposal = scoped_get_or_404(request, LinkProposal, pk, ACTION)
    try:
        proposals.proposal_discard(proposal=proposal, actor=request.user, ip=client_ip(request))
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect(proposal)
    messages.success(request, "联系方案已放弃，联系关系未作任何修改")
    return redirect(reverse("members:needs_member") + (f"?branch={proposal.branch_id}" if proposal.branch_id else ""))
