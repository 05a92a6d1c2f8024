from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from lianhu.common.views import paginate

from .models import Action, AuditEntry


@login_required
def audit_list(request):
    qs = AuditEntry.objects.visible_to(request.user, "view_audit").select_related("actor")
    action = request.GET.get("action", "")
    if action in Action.values:
        qs = qs.filter(action=action)
    return render(request, "audit/audit_list.html", {"page": paginate(request, qs), "action": action,
                                                     "actions": Action.choices})
