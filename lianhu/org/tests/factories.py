"""Test builders of the hierarchy: zone, office, branch, grid, household, resident."""

from __future__ import annotations

from lianhu.common.pinyin import name_initials
from lianhu.common.testing import next_number, valid_id_number
from lianhu.org.models import Branch, BranchKind, Grid, Household, Office, Resident, Zone


def make_zone(name="测试区", code="410173") -> Zone:
    return Zone.objects.create(name=name, code=code)


def make_office(zone: Zone, name: str | None = None) -> Office:
    n = next_number()
    return Office.objects.create(zone=zone, name=name or f"测试办事处{n}", code=f"{zone.code}{n % 1000:03d}000")


def make_branch(office: Office, name: str | None = None, kind=BranchKind.VILLAGE) -> Branch:
    n = next_number()
    return Branch.objects.create(office=office, name=name or f"测试村{n}", kind=kind, code=f"{office.code[:9]}{n % 1000:03d}")


def make_grid(branch: Branch, name: str | None = None) -> Grid:
    n = next_number()
    return Grid.objects.create(branch=branch, name=name or f"第{n}网格", code=f"{branch.code[:6]}{branch.code[6:12]}{n % 1000:03d}")


def make_household(grid: Grid, address: str | None = None, **kw) -> Household:
    from lianhu.org.services import next_household_code

    n = next_number()
    return Household.objects.create(
        branch=grid.branch, grid=grid, code=next_household_code(grid.branch), address=address or f"{grid.branch.name}{n}号",
        **kw,
    )


def make_resident(household: Household, name: str = "王秀英", id_number: str | None = None, phone: str = "",
                  care_tags=(), sensitive_tags=(), **kw) -> Resident:
    r = Resident(household=household, name=name, name_initials=name_initials(name), gender=kw.pop("gender", "F"),
                 care_tags=list(care_tags), **kw)
    r.set_id_number(id_number if id_number is not None else valid_id_number())
    if phone:
        r.set_phone(phone)
    if sensitive_tags:
        r.set_sensitive_tags(list(sensitive_tags))
    r.save()
    return r
