"""Figures of the registry (org): branches and households, for any set of branches."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from lianhu.common.figures import Figure, Period, register_figures

from .models import Household


def end_of(period: Period) -> dt.datetime:
    """The first instant after the period, in the project's time zone: stocks count what existed before it."""
    return timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))


def _compute(branch_ids, period: Period) -> dict[int, dict[str, int]]:
    households = Household.objects.filter(branch_id__in=branch_ids)
    if not period.reaches_today():
        households = households.filter(created_at__lt=end_of(period))
    counts = dict(households.values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"))
    return {pk: {"branches": 1, "households": counts.get(pk, 0)} for pk in branch_ids}


register_figures(
    "org",
    figures=[
        Figure("branches", "村（社区）支部", "个", "范围内的村、社区党支部数"),
        Figure("households", "户数", "户", "期末已登记的户数（含无人联系的户）"),
    ],
    compute=_compute,
)
