"""The household list's filters, one definition for the page, its export and the API (django-filter).

A branch or grid outside the user's scope is not a choice: the page and the export answer 404 for
it (`refuse_out_of_scope`), the API finds nothing. Filters other apps add (members: 已联系 / 未联系)
come from `hooks.household_filters`.
"""

from __future__ import annotations

import re

import django_filters as filters
from django.db.models import Q
from django.http import Http404

from lianhu.common.search_keys import id_number_hash
from lianhu.common.validators import looks_like_id_number

from .hooks import household_filters
from .models import Branch, Grid, Household

INITIALS_LIKE = re.compile(r"^[a-zA-Z]{1,10}$")


def search_households(qs, q: str):
    """Search by address or code, by a resident's name, pinyin initials or exact ID number (keyed hash)."""
    q = q.strip()
    if not q:
        return qs
    if looks_like_id_number(q):
        return qs.filter(residents__id_number_hash=id_number_hash(q)).distinct()
    if INITIALS_LIKE.match(q):
        return qs.filter(residents__name_initials__startswith=q.lower()).distinct()
    return qs.filter(Q(address__contains=q) | Q(code__startswith=q) | Q(residents__name__contains=q)).distinct()


class ScopedFilterSet(filters.FilterSet):
    """A FilterSet over `Model.objects.visible_to(user)` whose branch and grid choices are the user's."""

    scoped_choices: tuple[tuple[str, type], ...] = (("branch", Branch), ("grid", Grid))

    def __init__(self, data, *, user, queryset=None):
        super().__init__(data, queryset=queryset if queryset is not None else self._meta.model.objects.visible_to(user))
        self.user = user
        for name, model in self.scoped_choices:
            self.filters[name].queryset = model.objects.visible_to(user)

    def refuse_out_of_scope(self) -> None:
        """404 for a branch or grid that is not the user's (a page or an export asked for it)."""
        if any(name in self.form.errors for name, _ in self.scoped_choices):
            raise Http404

    @property
    def results(self):
        """The filtered rows; none at all when a filter value is not valid (an out-of-scope branch)."""
        return self.qs if self.is_valid() else self.queryset.none()

    @property
    def values(self) -> dict[str, str]:
        """The filters as typed, for the page to show them again and the export to describe them."""
        return {name: str(self.data.get(name, "") or "") for name in self.filters}

    @property
    def id_lookup(self) -> str:
        """The ID number searched for, if `q` is one: such a search is audited as a look-up."""
        q = self.values.get("q", "").strip()
        return q if looks_like_id_number(q) else ""


class HouseholdFilter(ScopedFilterSet):
    q = filters.CharFilter(method="search", label="搜索")
    branch = filters.ModelChoiceFilter(queryset=Branch.objects.none(), label="支部")
    grid = filters.ModelChoiceFilter(queryset=Grid.objects.none(), label="网格")

    class Meta:
        model = Household
        fields = ["q", "branch", "grid"]

    def __init__(self, data, *, user, queryset=None):
        super().__init__(data, user=user, queryset=queryset)
        for extra in household_filters.values():
            self.filters[extra.name] = filters.ChoiceFilter(
                choices=extra.choices, label=extra.label, method=lambda qs, _name, value, apply=extra.apply: apply(qs, value))

    def search(self, queryset, name, value):
        return search_households(queryset, value)
