import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from lianhu.common.views import action_required, paginate

from .filters import AuditFilter

ALERT_DAYS = 7


@login_required
@require_safe
@action_required("view_audit")
def audit_list(request):
    """The log of the audit administrator's office or zone, filtered; the export button posts the same filters."""
    f = AuditFilter(request.GET, user=request.user)
    f.refuse_out_of_scope()
    entries = f.results.select_related("actor", "office")
    shown = f.values
    since = timezone.now() - dt.timedelta(days=ALERT_DAYS)
    return render(request, "audit/audit_list.html", {
        "page": paginate(request, entries), "f": shown, "problems": f.problems,
        "query": urlencode({k: v for k, v in shown.items() if v}),
        "actions": f.filters["action"].extra["choices"], "object_types": f.filters["object_type"].extra["choices"],
        "offices": f.filters["office"].extra["choices"],
        # Whoever hit the hourly ID look-up limit lately (lookups._alert_office): said where its auditor looks.
        "lookup_alerts": f.queryset.filter(action="lookup_limit", at__gte=since).count(),
        "alert_days": ALERT_DAYS,
    })
