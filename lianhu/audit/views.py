from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from lianhu.common.views import paginate

from .models import AuditEntry
from .verbs import verbs


@login_required
@require_safe
def audit_list(request):
    qs = AuditEntry.objects.visible_to(request.user, "view_audit").select_related("actor")
    action = request.GET.get("action", "")
    if action in verbs:
        qs = qs.filter(action=action)
    return render(request, "audit/audit_list.html", {"page": paginate(request, qs), "action": action,
                                                     "actions": list(verbs.items())})
