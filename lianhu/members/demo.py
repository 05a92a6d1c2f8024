"""Demo data of members: the party members of each demo branch and the households they link.

The `members` seeder runs after org's: it reads the branches and households org stored, draws the
members and their links from its own random stream, and stores them with bulk inserts. An office's
member figures come from its spec in `lianhu.org.demo` (明港办事处: 675 members linking all 5,233
households, 236 unable to serve); the other offices get realistic ones drawn here.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count

from lianhu.common.seeders import SeedContext, seeder
from lianhu.members.models import DEFAULT_CAPACITY, EndReason, ExemptReason, LiaisonLink, MemberStatus, PartyMember
from lianhu.org.demo import (
    BATCH_SIZE, OFFICE_SPECS, REFERENCE_DATE, People, apportion, branch_surname_weights, initials, point_near,
)
from lianhu.org.models import Branch, Household, Office

LAUNCH_DATE = dt.date(2025, 3, 1)  # 党员联系户 started; most links date from the following weeks
CAPACITIES, CAPACITY_WEIGHTS = (8, 9, 10, 11, 12), (1, 1, 12, 1, 1)
EXEMPT_REASONS = (ExemptReason.OLD, ExemptReason.FRAIL, ExemptReason.ILL, ExemptReason.DISABLED)
EXEMPT_REASON_WEIGHTS = (55, 15, 20, 10)
EXEMPT_AGES = {ExemptReason.OLD: (72, 92), ExemptReason.FRAIL: (62, 85), ExemptReason.ILL: (45, 85),
               ExemptReason.DISABLED: (35, 80)}
POSTS = ("政策宣传岗", "矛盾调解岗", "环境监督岗", "文明劝导岗", "治安巡逻岗", "关爱帮扶岗")


class Home(NamedTuple):
    """A household org stored, as much of it as a member's plan needs."""

    pk: int
    grid_id: int | None
    address: str
    lng: float
    lat: float


@dataclass
class MemberPlan:
    name: str
    gender: str
    birth_date: dt.date
    joined_party_on: dt.date
    id_number: str
    phone: str
    address: str
    lng: float
    lat: float
    grid_id: int | None
    status: str
    capacity: int
    exempt_reason: str = ""
    exempt_since: dt.date | None = None
    exempt_approved_by: str = ""
    post: str = ""


@dataclass
class LinkPlan:
    household: int  # index into the branch's homes
    member: int  # index into the branch's members
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str = ""


@seeder("members", after=("org",))
def seed_members(ctx: SeedContext) -> None:
    """Every office's active and exempt members, spread over its branches, and their liaison links."""
    rng = ctx.rng
    report = ctx.progress or (lambda phase, done, total: None)
    issued = ctx.shared["org"]  # the residents' ID numbers and phones: a member gets none of them
    people = People(rng, id_numbers=issued["id_numbers"], phones=issued["phones"])
    specs = {spec.code: spec for spec in OFFICE_SPECS}
    total, done = Household.objects.count(), 0
    for office in Office.objects.order_by("code"):
        spec = specs[office.code]
        branches = list(Branch.objects.filter(office=office).annotate(n=Count("households")).order_by("code"))
        per_branch = [b.n for b in branches]
        households = sum(per_branch)
        active = spec.members_active or round(households / rng.uniform(7.0, 8.2))
        exempt = spec.members_exempt or round(active * rng.uniform(0.25, 0.4))
        active_per_branch = apportion(active, per_branch)
        exempt_per_branch = apportion(exempt, [h * rng.uniform(0.6, 1.4) for h in per_branch])
        for branch, branch_active, branch_exempt in zip(branches, active_per_branch, exempt_per_branch):
            homes = [Home(*row) for row in Household.objects.filter(branch=branch).order_by("code")
                     .values_list("pk", "grid_id", "address", "lng", "lat")]
            members, links = plan_branch(rng, people, branch.name, homes, active=branch_active, exempt=branch_exempt,
                                         approver=spec.approver)
            write_branch(branch, homes, members, links)
            done += len(homes)
            report("生成并写入党员与联系户", done, total)


def plan_branch(rng: random.Random, people: People, branch_name: str, homes: list[Home], *, active: int, exempt: int,
                approver: str) -> tuple[list[MemberPlan], list[LinkPlan]]:
    """The branch's members (active ones first) and links: every household linked, nobody over capacity."""
    surnames = branch_surname_weights(branch_name)
    members: list[MemberPlan] = []
    links: list[LinkPlan] = []
    loads = _member_loads(rng, len(homes), active)
    start = 0
    # Members hold households in consecutive runs of the street and live at the first of theirs.
    for m, (capacity, load) in enumerate(loads):
        members.append(_active_member(people, surnames, capacity=capacity, home=homes[start]))
        for h in range(start, start + load):
            links += _links(rng, household=h, member=m, members=len(loads))
        start += load
    for _ in range(exempt):
        home = homes[rng.randrange(len(homes))]
        members.append(_exempt_member(people, surnames, home=home, approver=approver))
    return members, links


def _links(rng: random.Random, *, household: int, member: int, members: int) -> list[LinkPlan]:
    """The household's active link, and for a few households an earlier link that was reassigned."""
    if members > 1 and rng.random() < 0.03:
        # The earlier member was a neighbour: members hold households in consecutive runs of the street.
        previous = rng.choice([m for m in range(max(0, member - 3), min(members, member + 4)) if m != member])
        began = LAUNCH_DATE + dt.timedelta(days=rng.randint(0, 45))
        moved = began + dt.timedelta(days=rng.randint(120, 500))
        return [LinkPlan(household, previous, began, ended_on=moved, end_reason=EndReason.REASSIGNED),
                LinkPlan(household, member, moved)]
    if rng.random() < 0.8:
        began = LAUNCH_DATE + dt.timedelta(days=rng.randint(0, 45))
    else:  # households registered later, or members who joined later
        began = LAUNCH_DATE + dt.timedelta(days=rng.randint(46, 560))
    return [LinkPlan(household, member, began)]


def _member_loads(rng: random.Random, households: int, active: int) -> list[tuple[int, int]]:
    """(capacity, households linked) per active member: everyone links at least one, nobody over capacity."""
    if not 0 < active <= households:
        raise ValueError(f"cannot link {households} households with {active} members, each holding at least one")
    capacities = [rng.choices(CAPACITIES, CAPACITY_WEIGHTS)[0] for _ in range(active)]
    while sum(capacities) < households:
        low = capacities.index(min(capacities))
        if capacities[low] >= CAPACITIES[-1]:
            raise ValueError(f"{households} households exceed the capacity of {active} members")
        capacities[low] += 1
    # Each member holds one household; the rest go to members drawn in proportion to their free places.
    free = [m for m, c in enumerate(capacities) for _ in range(c - 1)]
    rng.shuffle(free)
    loads = [1] * active
    for m in free[: households - active]:
        loads[m] += 1
    return list(zip(capacities, loads))


def _active_member(people: People, surnames: tuple[float, ...], *, capacity: int, home: Home) -> MemberPlan:
    low, high = people.rng.choice(((25, 40), (40, 55), (55, 72), (55, 72)))  # village members are mostly older
    age = people.rng.randint(low, high)
    return _member(people, surnames, age=age, home=home, status=MemberStatus.ACTIVE, capacity=capacity)


def _exempt_member(people: People, surnames: tuple[float, ...], *, home: Home, approver: str) -> MemberPlan:
    rng = people.rng
    reason = rng.choices(EXEMPT_REASONS, EXEMPT_REASON_WEIGHTS)[0]
    member = _member(people, surnames, age=rng.randint(*EXEMPT_AGES[reason]), home=home, status=MemberStatus.EXEMPT,
                     capacity=DEFAULT_CAPACITY)
    member.exempt_reason = str(reason)
    member.exempt_since = LAUNCH_DATE + dt.timedelta(days=rng.randint(0, 600))
    member.exempt_approved_by = approver
    # Members who cannot visit still serve: most keep a post (设岗定责).
    member.post = rng.choice(POSTS) if rng.random() < (0.65 if reason in ("老", "弱") else 0.45) else ""
    return member


def _member(people: People, surnames: tuple[float, ...], *, age: int, home: Home, status: str,
            capacity: int) -> MemberPlan:
    rng = people.rng
    gender = "M" if rng.random() < 0.72 else "F"
    birth = people.birth_date(age)
    joined_at = rng.randint(19, max(19, min(age - 1, 50)))
    joined = dt.date(birth.year + joined_at, rng.randint(1, 12), rng.randint(1, 28))
    point = point_near(rng, (home.lng, home.lat), 25)  # members live among the households they visit
    return MemberPlan(
        name=people.surname(surnames) + people.given_name(gender, birth.year),
        gender=gender,
        birth_date=birth,
        joined_party_on=min(joined, REFERENCE_DATE),
        id_number=people.id_number(birth, gender),
        phone=people.phone(),
        address=home.address,
        lng=point["lng"],
        lat=point["lat"],
        grid_id=home.grid_id,
        status=status,
        capacity=capacity,
    )


def write_branch(branch: Branch, homes: list[Home], members: list[MemberPlan], links: list[LinkPlan]) -> None:
    """Store one branch's members and links with bulk inserts (the caller holds the transaction)."""
    stored = PartyMember.objects.bulk_create([_party_member(m, branch) for m in members], batch_size=BATCH_SIZE)
    LiaisonLink.objects.bulk_create(
        [
            LiaisonLink(member=stored[link.member], household_id=homes[link.household].pk, started_on=link.started_on,
                        ended_on=link.ended_on, end_reason=link.end_reason)
            for link in links
        ],
        batch_size=BATCH_SIZE,
    )


def _party_member(plan: MemberPlan, branch: Branch) -> PartyMember:
    member = PartyMember(
        branch=branch, grid_id=plan.grid_id, name=plan.name, name_initials=initials(plan.name), gender=plan.gender,
        birth_date=plan.birth_date, joined_party_on=plan.joined_party_on, address=plan.address, lng=plan.lng,
        lat=plan.lat, status=plan.status, capacity=plan.capacity, exempt_reason=plan.exempt_reason,
        exempt_since=plan.exempt_since, exempt_approved_by=plan.exempt_approved_by, post=plan.post,
    )
    member.set_id_number(plan.id_number)
    member.set_phone(plan.phone)
    return member
