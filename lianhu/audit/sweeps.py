"""The audit log's retention sweep, run by the background worker (`manage.py worker`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from lianhu.common.sweeps import sweep

from .models import AuditEntry

# Audit entries are kept at least this long, whatever the setting says; on PostgreSQL a trigger also
# refuses to delete younger ones (audit migration 0002).
AUDIT_MINIMUM_DAYS = 180
AUDIT_DELETE_BATCH = 5000


@sweep("audit_retention")
def audit_retention() -> str:
    """Delete audit entries older than settings.AUDIT_RETENTION_DAYS (never younger than 180 days)."""
    days = max(settings.AUDIT_RETENTION_DAYS, AUDIT_MINIMUM_DAYS)
    # One hour of slack, so a clock running a little ahead of the database's never asks the
    # PostgreSQL trigger to delete a row it considers too young (which would fail the whole batch).
    cutoff = timezone.now() - dt.timedelta(days=days, hours=1)
    deleted = 0
    # In batches, so the web server is not kept waiting on a long SQLite write lock.
    while True:
        ids = list(AuditEntry.objects.filter(at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:AUDIT_DELETE_BATCH])
        if not ids:
            break
        count, _ = AuditEntry.objects.filter(pk__in=ids).delete()
        deleted += count
    return f"deleted {deleted} audit entries older than {days} days (before {timezone.localtime(cutoff):%Y-%m-%d %H:%M})"
