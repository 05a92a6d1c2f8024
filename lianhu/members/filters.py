"""The member list's filters: one definition for the page, its exports and the API."""

from __future__ import annotations

import django_filters as filters

from lianhu.common.search_keys import id_number_hash
from lianhu.common.validators import looks_like_id_number
from lianhu.org.filters import ScopedFilterSet
from lianhu.org.models import Branch, Grid

from .models import MemberStatus, PartyMember


def search_members(qs, q: str):
    """By exact ID number (keyed hash), pinyin initials (ljg → 李建国) or part of the name."""
    q = q.strip()
    if not q:
        return qs
    if looks_like_id_number(q):
        return qs.filter(id_number_hash=id_number_hash(q))
    if q.isascii() and q.isalpha():
        return qs.filter(name_initials__startswith=q.lower())
    return qs.filter(name__contains=q)


class MemberFilter(ScopedFilterSet):

    q = filters.CharFilter(method="search", label="搜索")
    branch = filters.ModelChoiceFilter(queryset=Branch.objects.none(), label="支部")
    grid = filters.ModelChoiceFilter(queryset=Grid.objects.none(), label="网格")
    status = filters.ChoiceFilter(choices=MemberStatus.choices, label="状态")

    class Meta:
        model = PartyMember
        fields = ["q", "branch", "grid", "status"]

    def search(self, queryset, name, value):
        return search_members(queryset, value)
