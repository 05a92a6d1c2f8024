"""The persona world: two offices, personas on both sides of every scope boundary (Healthchecks' Alice/Bob).

Built from each app's factories; outside lianhu/, since it spans every app (the root conftest.py
gives it to every test as the `world` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass

from lianhu.accounts.models import Role, User
from lianhu.accounts.tests.factories import make_user
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.models import Branch, BranchKind, Grid, Household, Office, Resident, Zone
from lianhu.org.tests.factories import make_branch, make_grid, make_household, make_office, make_resident, make_zone


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
    audit_admin: User  # 审计管理员 of office A: its log, none of its business data


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
        audit_admin=make_user("audit_admin", Role.AUDIT_ADMIN, office=office),
    )
