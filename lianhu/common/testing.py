"""Small builders for tests and benchmarks: make_* helpers and the persona world."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass

from stdnum.cn import ric

from lianhu.accounts.models import Membership, Role, User
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.org.models import Branch, BranchKind, Grid, Household, Office, Resident, Zone
from lianhu.common.pinyin import name_initials

_seq = itertools.count(1)

PASSWORD = "test-password-123"


def valid_id_number(birth: str = "19910101", region: str = "410184", serial: int | None = None) -> str:
    """A check-digit-valid 18-digit ID number (synthetic)."""
    serial = next(_seq) % 1000 if serial is None else serial
    body = f"{region}{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last digit


def make_zone(name="测试区", code="410173") -> Zone:
    return Zone.objects.create(name=name, code=code)


def make_office(zone: Zone, name: str | None = None) -> Office:
    n = next(_seq)
    return Office.objects.create(zone=zone, name=name or f"测试办事处{n}", code=f"{zone.code}{n % 1000:03d}000")


def make_branch(office: Office, name: str | None = None, kind=BranchKind.VILLAGE) -> Branch:
    n = next(_seq)
    return Branch.objects.create(office=office, name=name or f"测试村{n}", kind=kind, code=f"{office.code[:9]}{n % 1000:03d}")


def make_grid(branch: Branch, name: str | None = None) -> Grid:
    n = next(_seq)
    return Grid.objects.create(branch=branch, name=name or f"第{n}网格", code=f"{branch.code[:6]}{branch.code[6:12]}{n % 1000:03d}")


def make_household(grid: Grid, address: str | None = None, **kw) -> Household:
    from lianhu.org.services import next_household_code

    n = next(_seq)
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


def make_user(username: str, role: Role | None = None, **anchor) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username)
    if role is not None:
        advised = anchor.pop("advised_branches", None)
        m = Membership.objects.create(user=user, role=role, **anchor)
        if advised:
            m.advised_branches.set(advised)
    return user


@dataclass
class World:
    """Two offices; office A has branches A and B. Personas sit on both sides of every boundary."""

    zone: Zone
    office: Office
    other_office: Office
    branch_a: Branch
    branch_b: Branch
    branch_other: Branch
    grid_a: Grid
    grid_a2: Grid
    grid_b: Grid
    grid_other: Grid
    household_a: Household  # in grid_a, linked to member_a
    household_a2: Household  # in grid_a2, unlinked
    household_b: Household
    household_other: Household
    resident_a: Resident
    resident_b: Resident
    member_a: PartyMember
    member_a_exempt: PartyMember
    member_b: PartyMember
    member_other: PartyMember
    link_a: LiaisonLink
    zone_admin: User
    office_admin: User
    office_staff: User
    secretary_a: User
    secretary_b: User
    member_user: User  # logs in as member_a
    grid_worker_a: User
    advisor_b: User  # advises branch B only
    other_office_admin: User


def make_world() -> World:
    zone = make_zone()
    office = make_office(zone, "甲办事处")
    other_office = make_office(zone, "乙办事处")
    branch_a = make_branch(office, "甲村")
    branch_b = make_branch(office, "乙社区", kind=BranchKind.COMMUNITY)
    branch_other = make_branch(other_office, "丙村")
    grid_a, grid_a2 = make_grid(branch_a, "甲村一网格"), make_grid(branch_a, "甲村二网格")
    grid_b, grid_other = make_grid(branch_b, "乙社区一网格"), make_grid(branch_other, "丙村一网格")
    household_a = make_household(grid_a, "甲村一组1号")
    household_a2 = make_household(grid_a2, "甲村二组2号")
    household_b = make_household(grid_b, "乙社区3栋101")
    household_other = make_household(grid_other, "丙村5号")
    resident_a = make_resident(household_a, "单雪梅", id_number="360426199101010071", phone="13912345678",
                               care_tags=["独居老人"], sensitive_tags=["低保"])
    resident_b = make_resident(household_b, "曾国强", gender="M", phone="13700001111")
    make_resident(household_other, "赵大海", gender="M")
    member_a = make_member(branch_a, "李建国", grid=grid_a)
    member_a_exempt = make_member(branch_a, "张福来", status=MemberStatus.EXEMPT)
    member_b = make_member(branch_b, "刘红梅", gender="F")
    member_other = make_member(branch_other, "孙志强")
    link_a = make_link(member_a, household_a)
    make_link(member_b, household_b)
    make_link(member_other, household_other)
    member_user = make_user("member_a", Role.MEMBER, member=member_a)
    member_a.user = member_user
    member_a.save(update_fields=["user"])
    return World(
        zone=zone, office=office, other_office=other_office, branch_a=branch_a, branch_b=branch_b,
        branch_other=branch_other, grid_a=grid_a, grid_a2=grid_a2, grid_b=grid_b, grid_other=grid_other,
        household_a=household_a, household_a2=household_a2, household_b=household_b, household_other=household_other,
        resident_a=resident_a, resident_b=resident_b, member_a=member_a, member_a_exempt=member_a_exempt,
        member_b=member_b, member_other=member_other, link_a=link_a,
        zone_admin=make_user("zone_admin", Role.ZONE_ADMIN, zone=zone),
        office_admin=make_user("office_admin", Role.OFFICE_ADMIN, office=office),
        office_staff=make_user("office_staff", Role.OFFICE_STAFF, office=office),
        secretary_a=make_user("secretary_a", Role.BRANCH_SECRETARY, branch=branch_a),
        secretary_b=make_user("secretary_b", Role.BRANCH_SECRETARY, branch=branch_b),
        member_user=member_user,
        grid_worker_a=make_user("grid_worker_a", Role.GRID_WORKER, grid=grid_a),
        advisor_b=make_user("advisor_b", Role.ADVISOR, advised_branches=[branch_b]),
        other_office_admin=make_user("other_office_admin", Role.OFFICE_ADMIN, office=other_office),
    )


API = "/api/v1"


def api_call(client, method, url, body=None):
    """client.post etc. on /api/v1 with a JSON body."""
    if body is None:
        return getattr(client, method)(API + url)
    return getattr(client, method)(API + url, data=json.dumps(body), content_type="application/json")


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


class PksOf(dict):
    """Fills "/members/{member_a}" with the pk of world.member_a."""

    def __init__(self, world):
        super().__init__()
        self.world = world

    def __missing__(self, name):
        return getattr(self.world, name).pk
