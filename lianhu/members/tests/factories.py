"""Test builders of party members and their links."""

from __future__ import annotations

import datetime as dt

from lianhu.common.pinyin import name_initials
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.org.models import Branch, Household


def make_member(branch: Branch, name: str = "李建国", capacity: int = 10, status=MemberStatus.ACTIVE, **kw) -> PartyMember:
    phone = kw.pop("phone", "13800138000")
    m = PartyMember(branch=branch, name=name, name_initials=name_initials(name), gender=kw.pop("gender", "M"),
                    capacity=capacity, status=status, **kw)
    if status == MemberStatus.EXEMPT:
        m.exempt_reason = m.exempt_reason or "老"
        m.exempt_since = m.exempt_since or dt.date(2026, 1, 1)
    m.set_phone(phone)
    m.save()
    return m


def make_link(member: PartyMember, household: Household, started_on=dt.date(2026, 1, 1)) -> LiaisonLink:
    return LiaisonLink.objects.create(member=member, household=household, started_on=started_on)
