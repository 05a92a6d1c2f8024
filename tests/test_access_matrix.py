"""The access matrix: every page and every API operation × every persona × an object inside the persona's
scope and one outside it, each answer checked against what the registered actions say it must be.

The pages come from the URL configuration (`get_resolver()`, includes walked), the operations from the
API's OpenAPI document; one without an entry here fails `test_every_page_has_an_entry` or
`test_every_api_operation_has_an_entry`, and a persona of tests/world.py without a place in `SIDES` fails
`test_every_persona_has_a_place_in_the_matrix`.

An entry says what its page or operation is about (an object of a `Corner` of the world: its household,
its branch …), how the URL and the form or body are built from that object, and which registered
action each method needs. The answer each persona must get is derived from that, never written by hand:

- anonymous: the login page (302) on the web, 401 on the API;
- a method the page does not serve: 405;
- an object the persona may act on (the one scoping mechanism, `Model.objects.visible_to(user, action)`,
  which holds both the action's roles and the persona's scope; tests/test_scoping.py pins its answers
  by hand): the page (200), a saved form (302), a created object (201) …;
- anything else, inside the scope without the right or outside the scope: 404, exactly like a missing
  object, and a write changes nothing at all (every table the world lives in is compared with the world
  as built);
- a list answers 200 to everyone and shows the object only to those who may see it.

Every persona is tried on the object of his own corner (`SIDES[persona].home`) and on the nearest object
outside his scope (the first corner of `SIDES[persona].away` whose object he cannot see). The world is
built once for the module (about a second) and every case runs in its own rolled-back transaction.

To add a page: a `Page` in `PAGES` (what it is about, its URL arguments, query string and form from that
object, the action GET and POST each need or NOT_SERVED); an API operation: an `Operation` in
`OPERATIONS`; an object of a new kind: a field of `Corner`, filled for each corner in `build_matrix`; a
persona: a line in tests/world.py's `PERSONAS` and one in `SIDES`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from lianhu.accounts.models import ApiToken, Membership, Role, User
from lianhu.accounts.tests.factories import make_user
from lianhu.accounts.selectors import users_second_factor_resettable_by
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import valid_id_number
from lianhu.members.models import LiaisonLink, LinkProposal, MemberStatus, PartyMember
from lianhu.members.proposals import proposal_create
from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.models import Branch, Grid, Household, Office, Resident, Zone
from lianhu.org.tests.factories import make_branch, make_grid, make_household, make_office, make_resident, make_zone
from lianhu.org.tests.workbooks import households_file
from lianhu.spreadsheets import jobs
from lianhu.spreadsheets.models import ImportJob
from tests.world import PERSONAS, World, make_world

pytestmark = pytest.mark.django_db

VIEW = "view"
NOT_SERVED = "405"  # a method the page does not serve


# ---- the world of the matrix ---------------------------------------------------------------------


@dataclass
class Corner:
    """One branch's part of the world, with one object of every kind a page or operation is about."""

    label: str
    office: Office
    branch: Branch
    grid: Grid
    household: Household  # in `grid`, with `resident`, linked to `member` by `link`
    resident: Resident
    member: PartyMember
    link: LiaisonLink
    member_exempt: PartyMember
    unlinked: Household  # waits for a member (待安排)
    proposal: LinkProposal
    account: Membership  # a member's account: someone whose password a secretary or the office resets
    staff: User  # an office staff account of the corner's office: whose second factor its administrator resets
    entry: AuditEntry  # an entry of the office's log
    job: ImportJob  # an import somebody else uploaded into the office


@dataclass
class Matrix:
    world: World
    corners: dict[str, Corner]
    jobs: dict[int, ImportJob]  # user pk → an import of his own, into his home corner's office
    tokens: dict[int, tuple[ApiToken, str]]  # user pk → his API token and its key
    stored: dict  # every watched table as built (`snapshot`): each case starts from it

    def user(self, persona: str) -> User | None:
        return None if persona == ANONYMOUS else getattr(self.world, persona)


def _corner(label: str, *, office, branch, grid, household, resident, member, link, member_exempt, unlinked,
            account: User, uploader: User, staff: User | None = None) -> Corner:
    member.set_id_number(valid_id_number())  # so that the search by ID number has someone to find
    member.save()
    data = households_file({"branch": branch.name, "grid": grid.name, "address": f"{branch.name}矩阵户",
                            "name": "王建国", "relation": "户主", "id_number": "360426199101010072"})
    job = jobs.job_validate(jobs.job_create(kind="households", office=office, user=uploader, filename="户籍.xlsx",
                                            data=data), inline=True)
    return Corner(
        label=label, office=office, branch=branch, grid=grid, household=household, resident=resident, member=member,
        link=link, member_exempt=member_exempt, unlinked=unlinked,
        proposal=proposal_create(office=office, branch=branch, actor=None),
        account=account.memberships.get(),
        staff=staff or make_user(f"staff_{label}", Role.OFFICE_STAFF, office=office),
        entry=AuditEntry.objects.create(action="update", object_repr=f"矩阵日志{label}", office=office),
        job=job,
    )


def _far_zone_corner(uploader: User) -> Corner:
    """A corner in another zone: what is outside the zone's own administrator's scope."""
    office = make_office(make_zone("远区", code="410174"), "丁办事处")
    branch = make_branch(office, "丁村")
    grid = make_grid(branch, "丁村一网格")
    household = make_household(grid, "丁村7号")
    member = make_member(branch, "吴国华")
    return _corner("far", office=office, branch=branch, grid=grid, household=household,
                   resident=make_resident(household, "钱丽华"), member=member, link=make_link(member, household),
                   member_exempt=make_member(branch, "郑老汉", status=MemberStatus.EXEMPT),
                   unlinked=make_household(grid, "丁村8号"), account=make_user("member_far", Role.MEMBER, member=member),
                   uploader=uploader)


def build_matrix() -> Matrix:
    w = make_world()
    uploader = make_user("uploader")  # no role: his imports are nobody else's
    link_of = {m.pk: m.links.get() for m in (w.member_b, w.member_other)}
    corners = {
        "a": _corner("a", office=w.office, branch=w.branch_a, grid=w.grid_a, household=w.household_a,
                     resident=w.resident_a, member=w.member_a, link=w.link_a, member_exempt=w.member_a_exempt,
                     unlinked=w.household_a2, account=w.member_user, uploader=uploader),
        "b": _corner("b", office=w.office, branch=w.branch_b, grid=w.grid_b, household=w.household_b,
                     resident=w.resident_b, member=w.member_b, link=link_of[w.member_b.pk],
                     member_exempt=make_member(w.branch_b, "王守仁", status=MemberStatus.EXEMPT),
                     unlinked=make_household(w.grid_b, "乙社区3栋102"),
                     account=make_user("member_b", Role.MEMBER, member=w.member_b), uploader=uploader),
        "other": _corner("other", office=w.other_office, branch=w.branch_other, grid=w.grid_other,
                         household=w.household_other, resident=w.household_other.residents.get(),
                         member=w.member_other, link=link_of[w.member_other.pk],
                         member_exempt=make_member(w.branch_other, "陈老伯", status=MemberStatus.EXEMPT),
                         unlinked=make_household(w.grid_other, "丙村6号"),
                         account=make_user("member_other", Role.MEMBER, member=w.member_other), uploader=uploader),
        "far": _far_zone_corner(uploader),
    }
    own_jobs, tokens = {}, {}
    for persona in PERSONAS:
        user = getattr(w, persona.name)
        job = ImportJob.objects.get(pk=corners[SIDES[persona.name].home].job.pk)
        job.pk, job.created_by = None, user
        job.save()
        own_jobs[user.pk] = job
        tokens[user.pk] = ApiToken.issue(user=user, name="矩阵")
    for corner in corners.values():
        tokens[corner.account.user_id] = ApiToken.issue(user=corner.account.user, name="矩阵")
    return Matrix(world=w, corners=corners, jobs=own_jobs, tokens=tokens, stored=snapshot())


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction rolled back at its end; each test runs in
    a savepoint of it (pytest-django's own transaction), so whatever a case writes is gone for the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_matrix()
        transaction.set_rollback(True)


# ---- where each persona stands ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sides:
    home: str  # the corner inside the persona's scope
    away: tuple[str, ...]  # corners outside it, nearest first: the first whose object he cannot see is used


ANONYMOUS = "anonymous"
SIDES = {
    ANONYMOUS: Sides("a", ("b",)),
    "member_user": Sides("a", ("b", "other")),
    "zone_admin": Sides("a", ("far",)),
    "office_admin": Sides("a", ("other",)),
    "office_staff": Sides("a", ("other",)),
    "secretary_a": Sides("a", ("b", "other")),
    "secretary_b": Sides("b", ("a", "other")),
    "grid_worker_a": Sides("a", ("b", "other")),
    "advisor_b": Sides("b", ("a", "other")),
    "other_office_admin": Sides("other", ("a",)),
    "other_office_staff": Sides("other", ("a",)),
    "audit_admin": Sides("a", ("other",)),
}


# ---- what is allowed --------------------------------------------------------------------------------


def may(user: User | None, obj, action: str) -> bool:
    """Whether `user` may `action` the object: the scoping mechanism's answer (roles and scope)."""
    return user is not None and type(obj).objects.visible_to(user, action).filter(pk=obj.pk).exists()


def may_write_in_office(user: User | None, office: Office, action: str) -> bool:
    """Imports: write actions hold at the user's own level, so an office is his to import into when he may
    `action` one of its branches or grids."""
    return user is not None and (Branch.objects.visible_to(user, action).filter(office=office).exists()
                                 or Grid.objects.visible_to(user, action).filter(branch__office=office).exists())


def own_job(user, job, action) -> bool:
    return user is not None and job.created_by_id == user.pk and may_write_in_office(user, job.office, action)


OWN = "own"  # no registered action: the object is the user's own or nobody's (`own_token` says whose)


def own_token(user, token, action) -> bool:
    return user is not None and token.user_id == user.pk


# ---- the pages ---------------------------------------------------------------------------------------


def pk_of(obj) -> dict:
    return {"pk": obj.pk}


def link_to(obj) -> str:
    return f'href="{obj.get_absolute_url()}"'


def today() -> str:
    return timezone.localdate().isoformat()


@dataclass(frozen=True)
class Page:
    """A web page about one object (or a list of them).

    `get` and `post` name the action each method needs; NOT_SERVED: the page answers 405; None: another
    entry of the same page tries that method (with other arguments).
    """

    name: str  # the URL's name
    about: str | Callable | None = None  # a Corner attribute, or (matrix, corner, user, side) → object
    args: Callable[[Any], dict] | None = pk_of  # the URL's arguments from the object
    query: Callable[[Any], dict] | None = None  # ?office=…: the object named in the query string instead
    get: str | None = VIEW
    post: str | None = NOT_SERVED
    form: Callable[[Any], dict] = lambda obj: {}  # what POST sends
    saved: int = 302  # what an allowed POST answers
    refused: int = 404  # what a refused request answers (200: the object is a choice on the form, refused there)
    listing: bool = False  # GET lists objects: 200 to all, the object shown only to those who may see it
    shown: Callable[[Any], str] = link_to  # how a list shows the object
    needs: str | None = None  # an action the whole page needs, whatever the object (404 without it)
    allowed: Callable | None = None  # (user, obj, action) → bool, instead of `may`
    label: str = ""  # tells two entries of one page apart

    @property
    def id(self) -> str:
        return self.name + (f"[{self.label}]" if self.label else "")


@dataclass(frozen=True)
class Open:
    """A page about no object of the hierarchy: one answer for everyone logged in (or one that follows from
    the user: a callable), another for a visitor."""

    name: str
    get: int | Callable[[User], int]
    post: int | Callable[[User], int]
    anonymous: tuple[int, int]  # GET, POST
    lands: bool = False  # a redirect that must end on a page the user may see

    @property
    def id(self) -> str:
        return self.name


def household_form(h) -> dict:
    return {"branch": h.branch_id, "grid": h.grid_id, "address": h.address}


def member_form(m) -> dict:
    return {"branch": m.branch_id, "grid": m.grid_id or "", "name": m.name, "gender": m.gender,
            "capacity": m.capacity}


def job_page(matrix, corner, user, side):
    """Inside: the user's own import; outside: someone else's import into the same office."""
    return matrix.jobs[user.pk] if side == "inside" and user is not None else corner.job


def token_page(matrix, corner, user, side):
    """Inside: the user's own token; outside: another user's."""
    if side == "inside" and user is not None:
        return matrix.tokens[user.pk][0]
    return matrix.tokens[corner.account.user_id][0]


LOGIN = 302
PAGES: list[Page | Open] = [
    Open("dashboard:home", get=302, post=405, anonymous=(LOGIN, LOGIN), lands=True),
    Page("dashboard:zone_overview", "office", args=None, listing=True, needs=VIEW,
         shown=lambda o: f'href="{reverse("dashboard:office_overview", args=[o.pk])}"'),
    Page("dashboard:office_overview", "office"),
    Page("dashboard:my_households", "household", args=None, listing=True, needs=VIEW,
         allowed=lambda user, h, action: user is not None and h.links.filter(
             member__user=user, ended_on__isnull=True).exists()),
    Open("accounts:login", get=302, post=302, anonymous=(200, 200)),
    Open("accounts:logout", get=405, post=302, anonymous=(405, 302)),
    Open("accounts:password_change", get=200, post=200, anonymous=(LOGIN, LOGIN)),
    Page("accounts:user_list", "account", args=None, listing=True, needs="reset_passwords", get="reset_passwords",
         shown=lambda m: reverse("accounts:password_reset", args=[m.user_id])),
    Page("accounts:password_reset", "account", args=lambda m: {"pk": m.user_id}, get="reset_passwords",
         post="reset_passwords", saved=200),
    # The second factor: every persona's session here has typed its code (conftest's client), so the code
    # page sends him on; binding and the recovery codes are for those who need a second factor.
    Open("accounts:second_factor", get=302, post=302, anonymous=(LOGIN, LOGIN)),
    Open("accounts:second_factor_enrol", get=lambda u: 302 if u.second_factor_required else 404,
         post=lambda u: 302 if u.second_factor_required else 404, anonymous=(LOGIN, LOGIN)),
    Open("accounts:recovery_codes", get=lambda u: 200 if u.second_factor_required else 404,
         post=lambda u: 200 if u.second_factor_required else 404, anonymous=(LOGIN, LOGIN)),
    Open("accounts:second_factor_users", get=lambda u: 200 if u.can("reset_second_factor") else 404, post=405,
         anonymous=(LOGIN, 405)),
    Page("accounts:second_factor_reset", lambda matrix, corner, user, side: corner.staff, get="reset_second_factor", post="reset_second_factor",
         allowed=lambda user, target, action: user is not None and users_second_factor_resettable_by(user).filter(
             pk=target.pk).exists()),
    Page("accounts:tokens", token_page, args=None, listing=True, get=OWN, post=None, shown=lambda t: t.prefix,
         allowed=own_token, label="list"),
    Page("accounts:tokens", token_page, args=None, get=None, post=OWN, form=lambda t: {"revoke": t.pk},
         allowed=own_token, label="revoke"),
    Page("accounts:tokens", None, args=None, get=None, post="issue_tokens", form=lambda _: {"name": "矩阵令牌"},
         saved=200, needs="issue_tokens", label="issue"),
    Page("org:branch_list", "branch", args=None, listing=True, needs=VIEW),
    Page("org:branch_create", "office", args=None, query=lambda o: {"office": o.pk}, get="edit_org", post="edit_org",
         form=lambda o: {"name": "矩阵新支部", "kind": "village", "code": o.code[:9] + "987"}),
    Page("org:branch_detail", "branch"),
    Page("org:branch_edit", "branch", get="edit_org", post="edit_org",
         form=lambda b: {"name": b.name, "kind": b.kind, "code": b.code}),
    Page("org:grid_create", "branch", args=None, query=lambda b: {"branch": b.pk}, get="edit_grids", post="edit_grids",
         form=lambda b: {"name": "矩阵新网格", "code": b.code + "987"}),
    Page("org:grid_detail", "grid"),
    Page("org:grid_edit", "grid", get="edit_grids", post="edit_grids", form=lambda g: {"name": g.name, "code": g.code}),
    Page("org:household_list", "household", args=None, listing=True, post=VIEW, needs=VIEW),  # its search form posts
    Page("org:household_list", "branch", args=None, query=lambda b: {"branch": b.pk}, post=VIEW, saved=200,
         needs=VIEW, label="filtered"),
    Page("org:household_create", None, args=None, get="edit_roster", post=None, needs="edit_roster", label="form"),
    Page("org:household_create", "household", args=None, get=None, post="edit_roster", needs="edit_roster",
         form=lambda h: {**household_form(h), "address": "矩阵新户"}, refused=200, label="in a grid",
         allowed=lambda user, h, action: may(user, h.grid, action)),
    Page("org:household_detail", "household"),
    Page("org:household_edit", "household", get="edit_roster", post="edit_roster", form=household_form),
    Page("org:resident_create", "household", args=lambda h: {"household_pk": h.pk}, get="edit_roster",
         post="edit_roster", form=lambda h: {"name": "矩阵新居民", "gender": "F", "relation": "其他"}),
    Page("org:resident_edit", "resident", args=lambda r: {"household_pk": r.household_id, "pk": r.pk},
         get="edit_roster", post="edit_roster",
         form=lambda r: {"name": r.name, "gender": r.gender, "relation": r.relation}),
    Page("org:reveal", "resident", args=lambda r: {"kind": "resident", "pk": r.pk, "field": "phone"},
         get=NOT_SERVED, post="reveal", saved=200, label="resident"),
    Page("org:reveal", "member", args=lambda m: {"kind": "member", "pk": m.pk, "field": "phone"},
         get=NOT_SERVED, post="reveal", saved=200, label="member"),
    Page("members:member_list", "member", args=None, listing=True, post=VIEW, needs=VIEW),  # its search form posts
    Page("members:member_create", None, args=None, get="manage_members", post=None, needs="manage_members",
         label="form"),
    Page("members:member_create", "member", args=None, get=None, post="manage_members", needs="manage_members",
         form=lambda m: {**member_form(m), "name": "矩阵新党员"}, refused=200, label="in a branch",
         allowed=lambda user, m, action: may(user, m.branch, action)),
    Page("members:member_detail", "member"),
    Page("members:member_edit", "member", get="manage_members", post="manage_members", form=member_form),
    Page("members:member_exempt", "member", get="manage_members", post="manage_members",
         form=lambda m: {"reason": "老", "since": today(), "approved_by": "矩阵"}),
    Page("members:member_reinstate", "member_exempt", get=NOT_SERVED, post="manage_members"),
    Page("members:member_left", "member", get="manage_members", post="manage_members", form=lambda m: {"on": today()}),
    Page("members:needs_member", "unlinked", args=None, listing=True, needs="manage_members", get="manage_members"),
    Page("members:household_link", "unlinked", args=lambda h: {"household_pk": h.pk}, get=NOT_SERVED,
         post="manage_members",
         form=lambda h: {"member": h.branch.members.filter(status=MemberStatus.ACTIVE).first().pk}),
    Page("members:link_end", "link", get=NOT_SERVED, post="manage_members"),
    Page("members:proposal_create", "branch", args=None, query=lambda b: {"branch": b.pk}, get="manage_members",
         post="manage_members", form=lambda b: {"branch": b.pk}),
    Page("members:proposal_detail", "proposal", get="manage_members"),
    Page("members:proposal_apply", "proposal", get=NOT_SERVED, post="manage_members"),
    Page("members:proposal_discard", "proposal", get=NOT_SERVED, post="manage_members"),
    Page("audit:audit_list", "entry", args=None, listing=True, get="view_audit", needs="view_audit",
         shown=lambda e: e.shown_object),
    Page("transfer:template", "office", args=lambda _: {"kind": "households"}, query=lambda o: {"office": o.pk},
         get="edit_roster", allowed=may_write_in_office),
    Page("transfer:export", "branch", args=lambda _: {"kind": "households"}, query=lambda b: {"branch": b.pk},
         post=VIEW, saved=200),
    Page("transfer:upload", "office", args=lambda _: {"kind": "households"}, query=lambda o: {"office": o.pk},
         get="edit_roster", post="edit_roster", saved=200, allowed=may_write_in_office),
    Page("transfer:job_detail", job_page, get="edit_roster", allowed=own_job),
    Page("transfer:job_progress", job_page, get="edit_roster", allowed=own_job),
    Page("transfer:job_confirm", job_page, get=NOT_SERVED, post="edit_roster", allowed=own_job),
    Page("transfer:job_problems", job_page, get="edit_roster", allowed=own_job),
    # ninja's own pages: the document is public (it describes the API, no data), whatever the method.
    Open("api:openapi-json", get=200, post=200, anonymous=(200, 200)),
    Open("api:openapi-view", get=200, post=200, anonymous=(200, 200)),
    Open("api:api-root", get=404, post=404, anonymous=(404, 404)),
]


# ---- the API operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """An API operation about one object (or a list of them), as the OpenAPI document names it."""

    method: str
    path: str  # "/households/{household_id}": a path parameter is the object's pk
    about: str
    action: str = VIEW
    body: Callable[[Any], dict] | None = None  # the JSON body from the object
    ok: int = 200  # what an allowed call answers
    listing: bool = False  # lists objects: 200 to all, the object's id among the items only for those who may see it
    allowed: Callable | None = None

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"


def household_body(h) -> dict:
    return {"branch": h.branch_id, "grid": h.grid_id, "address": "矩阵新户"}


OPERATIONS = [
    Operation("get", "/offices", "office", listing=True),
    Operation("get", "/offices/{office_id}", "office"),
    Operation("get", "/branches", "branch", listing=True),
    Operation("get", "/branches/{branch_id}", "branch"),
    Operation("get", "/grids", "grid", listing=True),
    Operation("get", "/grids/{grid_id}", "grid"),
    Operation("get", "/households", "household", listing=True),
    Operation("post", "/households", "household", "edit_roster", household_body, ok=201,
              allowed=lambda user, h, action: may(user, h.grid, action)),
    Operation("get", "/households/{household_id}", "household"),
    Operation("patch", "/households/{household_id}", "household", "edit_roster", lambda h: {"notes": "矩阵"}),
    Operation("get", "/residents", "resident", listing=True),
    Operation("post", "/residents", "household", "edit_roster",
              lambda h: {"household": h.pk, "name": "矩阵新居民", "gender": "F"}, ok=201),
    Operation("post", "/residents/search", "resident", body=lambda r: {"id_number": r.reveal_id_number()},
              listing=True),
    Operation("get", "/residents/{resident_id}", "resident"),
    Operation("patch", "/residents/{resident_id}", "resident", "edit_roster", lambda r: {"name": r.name}),
    Operation("post", "/residents/{resident_id}/reveal", "resident", "reveal", lambda r: {"field": "phone"}),
    Operation("get", "/members", "member", listing=True),
    Operation("post", "/members", "member", "manage_members",
              lambda m: {"branch": m.branch_id, "name": "矩阵新党员", "gender": "M"}, ok=201,
              allowed=lambda user, m, action: may(user, m.branch, action)),
    Operation("post", "/members/search", "member", body=lambda m: {"id_number": m.reveal_id_number()}, listing=True),
    Operation("get", "/members/{member_id}", "member"),
    Operation("patch", "/members/{member_id}", "member", "manage_members", lambda m: {"post": "矩阵岗"}),
    Operation("post", "/members/{member_id}/exempt", "member", "manage_members",
              lambda m: {"reason": "老", "since": today(), "approved_by": "矩阵"}),
    Operation("get", "/links", "link", listing=True),
    Operation("post", "/links", "unlinked", "manage_members",
              lambda h: {"member": h.branch.members.filter(status=MemberStatus.ACTIVE).first().pk, "household": h.pk},
              ok=201),
    Operation("get", "/links/{link_id}", "link"),
    Operation("post", "/links/{link_id}/end", "link", "manage_members"),
]


# ---- the cases ---------------------------------------------------------------------------------------

PERSONA_NAMES = [ANONYMOUS] + [p.name for p in PERSONAS]


def _object_of(matrix: Matrix, about, persona: str, side: str):
    """The object a case is about: the persona's home corner's, or the nearest one outside his scope."""
    user, sides = matrix.user(persona), SIDES[persona]
    corners = [sides.home] if side == "inside" else list(sides.away)
    if callable(about):  # an object that is not scoped by the hierarchy: the entry knows whose it is
        return about(matrix, matrix.corners[corners[0]], user, side)
    for label in corners:
        obj = getattr(matrix.corners[label], about)
        if side == "inside" or not may(user, obj, VIEW):
            return obj
    raise AssertionError(f"{persona}: no corner of {sides.away} is outside his scope for {about}")


# Every table the world lives in, compared with the world as built after a write that must change nothing.
WATCHED = [Zone, Office, Branch, Grid, Household, Resident, PartyMember, LiaisonLink, LinkProposal, ImportJob,
           AuditEntry, User, Membership, ApiToken]
UNWATCHED_FIELDS = {"last_used_at", "last_login"}  # written by using a token, by logging in


def snapshot() -> dict:
    """Every row of every watched table (plain SQL: it runs after every refused write, and the ORM's
    compiling of 14 queries was a sixth of the matrix's time)."""
    state = {}
    with connection.cursor() as cursor:
        for model in WATCHED:
            meta, quote = model._meta, connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in meta.concrete_fields if f.attname not in UNWATCHED_FIELDS)
            cursor.execute(f"SELECT {columns} FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}")
            state[meta.label] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                                 for row in cursor.fetchall()]
    return state


def changed_tables(matrix: Matrix) -> list[str]:
    """The watched tables that differ from the world as built (each case starts from it)."""
    now = snapshot()
    return [label for label in now if now[label] != matrix.stored[label]]


def _cases(entries, methods_of):
    for entry in entries:
        for method in methods_of(entry):
            for persona in PERSONA_NAMES:
                # A visitor has no scope: one object will do.
                for side in ("inside",) if persona == ANONYMOUS else ("inside", "outside"):
                    shown = entry.id if entry.id.startswith(method.upper()) else f"{entry.id} {method.upper()}"
                    yield pytest.param(entry, method, persona, side, id=f"{shown} {persona} {side}")


def _page_methods(page) -> list[str]:
    return [m for m in ("get", "post") if getattr(page, m) is not None]


def expected_page(page: Page, method: str, user, obj) -> int:
    action = getattr(page, method)
    if user is None:
        return LOGIN
    if action == NOT_SERVED:
        return 405
    if page.needs and not user.can(page.needs):
        return 404
    if page.listing:
        return 200
    allowed = (page.allowed or may)(user, obj, action) if obj is not None else True
    if allowed:
        return 200 if method == "get" else page.saved
    return page.refused


@pytest.mark.parametrize("page,method,persona,side", list(_cases([p for p in PAGES if isinstance(p, Page)],
                                                                   _page_methods)))
def test_page(matrix, client_for, client, page, method, persona, side):
    user = matrix.user(persona)
    obj = _object_of(matrix, page.about, persona, side) if page.about else None
    url = reverse(page.name, kwargs=page.args(obj) if page.args else None)
    params = page.query(obj) if page.query else {}
    if user is not None:
        client = client_for(user)
    expected = expected_page(page, method, user, obj)
    if method == "get":
        response = client.get(url, params)
    else:
        # A page that reads the object from its query string reads it from the form when posted to.
        response = client.post(url + (f"?{urlencode(params)}" if params else ""), {**params, **page.form(obj)})
    assert response.status_code == expected, _why(response)
    if expected == LOGIN and user is None:
        assert response["Location"].startswith(reverse("accounts:login"))
    if page.listing and expected == 200:
        shown = page.shown(obj) in response.content.decode()
        assert shown == (side == "inside" and (page.allowed or may)(user, obj, getattr(page, method))), \
            f"{page.shown(obj)!r} {'shown' if shown else 'not shown'}"
    if method == "post" and expected != page.saved:
        assert changed_tables(matrix) == [], "a refused write changed the database"


def _why(response) -> str:
    location = response.get("Location", "")
    return f"answered {response.status_code}{' → ' + location if location else ''}"


@pytest.mark.parametrize("page,method,persona", [
    pytest.param(p, m, persona, id=f"{p.id} {m.upper()} {persona}")
    for p in PAGES if isinstance(p, Open) for m in ("get", "post") for persona in PERSONA_NAMES])
def test_open_page(matrix, client_for, client, page, method, persona):
    user = matrix.user(persona)
    if user is not None:
        client = client_for(user)
    url = reverse(page.name)
    response = getattr(client, method)(url)
    expected = getattr(page, method) if user is not None else page.anonymous[method == "post"]
    expected = expected(user) if callable(expected) else expected
    assert response.status_code == expected, _why(response)
    if expected == 302 and user is None and page.anonymous[method == "post"] == LOGIN:
        assert response["Location"].startswith(reverse("accounts:login"))
    if page.lands and user is not None and method == "get":
        assert client.get(response["Location"]).status_code == 200, response["Location"]


def expected_operation(op: Operation, user, obj) -> int:
    if user is None:
        return 401
    if op.listing:
        return 200
    return op.ok if (op.allowed or may)(user, obj, op.action) else 404


@pytest.mark.parametrize("op,method,persona,side", list(_cases(OPERATIONS, lambda op: [op.method])))
def test_api_operation(matrix, client, op, method, persona, side):
    user = matrix.user(persona)
    obj = _object_of(matrix, op.about, persona, side)
    headers = {"Authorization": f"Bearer {matrix.tokens[user.pk][1]}"} if user is not None else {}
    path = "/api/v1" + re.sub(r"{\w+}", str(obj.pk), op.path)
    expected = expected_operation(op, user, obj)
    if op.body is not None:
        response = getattr(client, method)(path, data=json.dumps(op.body(obj)), content_type="application/json",
                                           headers=headers)
    else:
        response = getattr(client, method)(path, headers=headers)
    assert response.status_code == expected, response.content.decode()[:300]
    if expected == 404:
        assert response.json() == {"detail": "未找到，或不在您的管辖范围内"}
    if op.listing and expected == 200:
        ids = {row["id"] for row in response.json()["items"]}
        assert (obj.pk in ids) == (side == "inside" and (op.allowed or may)(user, obj, op.action))
    if method != "get" and expected != op.ok:
        assert changed_tables(matrix) == [], "a refused write changed the database"


# ---- the matrix is complete ---------------------------------------------------------------------------


def _api_route(route: str) -> str:
    """api/v1/households/<household_id> → /households/{household_id}, as the OpenAPI document has it."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.removeprefix("api/v1/"))


def url_names(patterns=None, namespace="", prefix=""):
    """(name, route) of every named URL, includes walked; Django's admin (mounted only with LIANHU_ADMIN=1,
    for superusers: tests/test_admin_mount.py) is left out."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from url_names(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            yield namespace + p.name, prefix + str(p.pattern)


def api_operations() -> set[str]:
    from config.api import api

    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path.removeprefix('/api/v1')}" for path, item in schema["paths"].items()
            for method in item}


def test_every_page_has_an_entry():
    operation_paths = {op.split(" ", 1)[1] for op in api_operations()}
    names = {name for name, route in url_names()
             if not (name.startswith("api:") and _api_route(route) in operation_paths)}  # operations: below
    assert len(names) > 40 and "org:household_detail" in names  # the walk found the app's pages
    entries = {p.name for p in PAGES}
    assert sorted(names - entries) == [], "pages without an entry in the access matrix"
    assert sorted(entries - names) == [], "entries of pages that no longer exist"
    for name in names:  # GET and POST each tried by some entry of the page
        for method in ("get", "post"):
            assert any(isinstance(p, Open) or getattr(p, method) is not None for p in PAGES if p.name == name), \
                f"{name}: no entry tries {method.upper()}"


def test_every_api_operation_has_an_entry():
    operations = api_operations()
    entries = {op.id for op in OPERATIONS}
    assert len(operations) > 20 and "GET /households/{household_id}" in operations
    assert sorted(operations - entries) == [], "API operations without an entry in the access matrix"
    assert sorted(entries - operations) == [], "entries of operations that no longer exist"


def test_every_persona_has_a_place_in_the_matrix():
    assert set(SIDES) == set(PERSONA_NAMES), "add the persona to SIDES: the corner he works in, and those outside"


def test_a_write_shows_in_the_watched_tables(matrix, client_for):
    """What `changed_tables` compares would see a write: an allowed one changes the link and the log."""
    client = client_for(matrix.world.office_admin)
    assert client.post(reverse("members:link_end", args=[matrix.corners["a"].link.pk])).status_code == 302
    assert sorted(changed_tables(matrix)) == ["audit.AuditEntry", "members.LiaisonLink"]


def test_each_persona_stands_where_the_matrix_says(matrix):
    """The home corner's branch is in the persona's scope, the away corners' are not (reading climbs, so a
    member or grid worker sees his branch)."""
    for persona, sides in SIDES.items():
        user, home = matrix.user(persona), matrix.corners[sides.home]
        if user is not None and not user.can(VIEW):  # the audit administrator: his office's log, no business data
            assert may(user, home.entry, "view_audit") and not may(user, home.branch, VIEW), persona
            continue
        assert may(user, home.branch, VIEW) == (user is not None), persona
        assert not may(user, matrix.corners[sides.away[0]].household, VIEW), persona


# ---- methods the API does not document ----------------------------------------------------------


PATH_OBJECTS = {"office_id": "office", "branch_id": "branch", "grid_id": "grid", "household_id": "household",
                "resident_id": "resident", "member_id": "member", "link_id": "link"}


def _undocumented_methods():
    documented: dict[str, set[str]] = {}
    for op in api_operations():
        method, path = op.split(" ", 1)
        documented.setdefault(path, set()).add(method.lower())
    for path, methods in sorted(documented.items()):
        for method in ("get", "post", "put", "patch", "delete"):
            if method not in methods:
                yield pytest.param(path, method, id=f"{method.upper()} {path}")


@pytest.mark.parametrize("path,method", list(_undocumented_methods()))
def test_a_method_an_api_path_does_not_document_answers_405_and_writes_nothing(matrix, client, path, method):
    corner, user = matrix.corners["a"], matrix.world.office_admin
    url = "/api/v1" + re.sub(r"{(\w+)}", lambda m: str(getattr(corner, PATH_OBJECTS[m.group(1)]).pk), path)
    headers = {"Authorization": f"Bearer {matrix.tokens[user.pk][1]}"}
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(client, method)(url, headers=headers, **body)
    assert response.status_code == 405, response.content.decode()[:300]
    assert changed_tables(matrix) == []
