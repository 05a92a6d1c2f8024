"""The audit page's filters, one definition for the page and its export (django-filter).

Over `AuditEntry.objects.visible_to(user, "view_audit")`: the audit administrator's office, or his
zone's offices and its entries of no office. An office outside his scope is not a choice: the page and
the export answer 404 for it, as the lists do for a branch (`refuse_out_of_scope`). The same interface
as the lists' `ScopedFilterSet` (org, above this app), which the export view of the spreadsheets app reads.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

import django_filters as filters
from django import forms
from django.apps import apps
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from .models import AuditEntry
from .verbs import verbs

ZONE_LEVEL = "zone"  # the office choice for the entries of no office (a zone account's login)
# Dates the log can hold; beyond them a day's bounds would overflow when turned into UTC.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
ADDRESS = RegexValidator(r"^[0-9A-Fa-f.:]{1,45}$", "请填写 IP 地址或它的开头部分，如 10.0.0.")


def _day_validators():
    return [MinValueValidator(FIRST_DAY, "请填写 2000 年以后的日期"), MaxValueValidator(LAST_DAY, "请填写 2100 年以前的日期")]


def object_types() -> list[tuple[str, str]]:
    """(app_label.model, 中文名) of every model of the product: what an entry's object may be."""
    return [(m._meta.label_lower, str(m._meta.verbose_name)) for m in apps.get_models()
            if m.__module__.startswith("lianhu.") and m is not AuditEntry]


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AuditFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and since > until:
            self.add_error("date_to", "截止日期不能早于起始日期")
        return data


class AuditFilter(filters.FilterSet):
    actor = filters.CharFilter(method="by_actor", label="操作人", max_length=150)
    action = filters.ChoiceFilter(label="操作", choices=())
    object_type = filters.ChoiceFilter(label="对象类型", choices=())
    date_from = filters.DateFilter(method="since", label="起始日期", validators=_day_validators())
    date_to = filters.DateFilter(method="until", label="截止日期", validators=_day_validators())
    ip = filters.CharFilter(method="by_address", label="来源地址", max_length=45, validators=[ADDRESS])
    office = filters.ChoiceFilter(method="by_office", label="办事处", choices=())

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "date_from", "date_to", "ip", "office"]
        form = AuditFilterForm

    def __init__(self, data, *, user, queryset=None):
        super().__init__(data, queryset=queryset if queryset is not None
                         else AuditEntry.objects.visible_to(user, "view_audit"))
        self.user = user
        self.filters["action"].extra["choices"] = list(verbs.items())
        self.filters["object_type"].extra["choices"] = object_types()
        self.filters["office"].extra["choices"] = self.office_choices()

    def office_choices(self) -> list[tuple[str, str]]:
        """The offices of the user's scope; a zone's audit administrator also has its entries of no office."""
        office_model = AuditEntry._meta.get_field("office").related_model
        offices = [(str(pk), name) for pk, name in office_model.objects.visible_to(self.user, "view_audit")
                   .order_by("code").values_list("pk", "name")]
        zone_level = any("office" not in m.anchors() for m in self.user.memberships_allowing("view_audit"))
        return offices + ([(ZONE_LEVEL, "区级（不属于办事处）")] if zone_level or self.user.is_superuser else [])

    # The interface of the lists' filtersets, for the page and the export view.
    def refuse_out_of_scope(self) -> None:
        """404 for an office that is not the user's (a page or an export asked for it)."""
        if "office" in self.form.errors:
            raise Http404

    @property
    def results(self):
        """The filtered entries; none at all while a filter is not valid (the page says which and why)."""
        return self.qs if self.is_valid() else self.queryset.none()

    @property
    def values(self) -> dict[str, str]:
        """The filters as typed, for the page to show them again, its page links and its export button."""
        return {name: str(self.data.get(name, "") or "") for name in self.filters}

    id_lookup = ""  # the log is never searched by ID number

    @property
    def problems(self) -> list[str]:
        """What is wrong with the filters, each naming its field."""
        return [f"{self.filters[name].label if name in self.filters else '筛选'}：{message}"
                for name, messages in self.form.errors.items() for message in messages]

    # The filters.
    def by_actor(self, queryset, name, value):
        """By account name or the name shown; a failed login by the account name that was tried."""
        value = value.strip()
        return queryset.filter(Q(actor__username__iexact=value) | Q(actor_label__contains=value)
                               | Q(actor__isnull=True, action="login_failed", detail__username__iexact=value))

    def since(self, queryset, name, value):
        return queryset.filter(at__gte=_start_of(value))

    def until(self, queryset, name, value):
        return queryset.filter(at__lt=_start_of(value + dt.timedelta(days=1)))

    def by_address(self, queryset, name, value):
        """A whole address exactly; its beginning (10.0.0.) as a prefix."""
        try:
            return queryset.filter(ip=str(ipaddress.ip_address(value)))
        except ValueError:
            return queryset.filter(ip__startswith=value)

    def by_office(self, queryset, name, value):
        if value == ZONE_LEVEL:
            return queryset.filter(office__isnull=True)
        return queryset.filter(office_id=int(value))
