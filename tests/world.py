"""The persona world: two offices, personas on both sides of every scope boundary (Healthchecks' Alice/Bob).

Built from each app's factories; outside lianhu/, since it spans every app (the root conftest.py
gives it to every test as the `world` fixture). The personas are one table, `PERSONAS`: a new role's
persona is one line there, and `world.<name>` is his user (tests/test_access_matrix.py then asks where
he stands in the matrix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lianhu.accounts.models import Role, User
from lianhu.accounts.tests.factories import make_user
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.models import Branch, BranchKind, Grid, Household, Office, Resident, Zone
from lianhu.org.tests.factories import make_branch, make_grid, make_household, make_office, make_resident, make_zone


@dataclass(frozen=True)
class Persona:
    """Someone a test logs in as: his role, and where in the world it applies (a Membership's anchor)."""

    name: str
    role: Role
    anchor: Callable[[World], dict]
    username: str = ""  # the login name, if not the persona's name


PERSONAS = [
    Persona("member_user", Role.MEMBER, lambda w: {"member": w.member_a}, username="member_a"),  # member_a's account
    Persona("zone_admin", Role.ZONE_ADMIN, lambda w: {"zone": w.zone}),
    Persona("office_admin", Role.OFFICE_ADMIN, lambda w: {"office": w.office}),
    Persona("office_staff", Role.OFFICE_STAFF, lambda w: {"office": w.office}),
    Persona("secretary_a", Role.BRANCH_SECRETARY, lambda w: {"branch": w.branch_a}),
    Persona("secretary_b", Role.BRANCH_SECRETARY, lambda w: {"branch": w.branch_b}),
    Persona("grid_worker_a", Role.GRID_WORKER, lambda w: {"grid": w.grid_a}),
    Persona("advisor_b", Role.ADVISOR, lambda w: {"advised_branches": [w.branch_b]}),  # advises branch B only
    Persona("other_office_admin", Role.OFFICE_ADMIN, lambda w: {"office": w.other_office}),
    Persona("other_office_staff", Role.OFFICE_STAFF, lambda w: {"office": w.other_office}),
    Persona("audit_admin", Role.AUDIT_ADMIN, lambda w: {"office": w.office}),  # 审计管理员 of office A: its log only
]


@dataclass
class World:
    """Two offices; office A has branches A and B. Personas sit on both sides of every boundary.

    Each persona of `PERSONAS` is an attribute too: `world.secretary_a` is `world.personas["secretary_a"]`.
    """

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
    personas: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["personas"][name]
        except KeyError:
            raise AttributeError(name) from None


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
    world = World(
        zone=zone, office=office, other_office=other_office, branch_a=branch_a, branch_b=branch_b,
        branch_other=branch_other, grid_a=grid_a, grid_a2=grid_a2, grid_b=grid_b, grid_other=grid_other,
        household_a=household_a, household_a2=household_a2, household_b=household_b, household_other=household_other,
        resident_a=resident_a, resident_b=resident_b, member_a=member_a, member_a_exempt=member_a_exempt,
        member_b=member_b, member_other=member_other, link_a=link_a,
    )
    for persona in PERSONAS:
        world.personas[persona.name] = make_user(persona.username or persona.name, persona.role,
                                                 **persona.anchor(world))
    member_a.user = world.member_user
    member_a.save(update_fields=["user"])
    return world
