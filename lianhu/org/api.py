"""Offices, branches, grids, households and residents under /api/v1.

Reads use the "view" scope, writes the "edit_roster" scope, for the object and for every foreign key
in the body, so an id out of the writer's scope answers 404 exactly like a missing one.
Residents are only ever shown masked; the clear value goes through the audited reveal.
A household or resident comes with its version as an ETag; a PATCH writes only the fields it sends, and
with an If-Match naming an older version it answers 412 and writes nothing (lianhu.common.api).
"""

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from lianhu.audit.lookups import audit_id_lookup
from lianhu.audit.services import personal_data_reveal
from lianhu.common.api import (Bool, Date, Id, IdNumberIn, IfMatch, Int, Page, PersonOut, PhoneIn, Text, errors,
                               etag, expected_versions, integer, number, scoped_get)
from lianhu.common.http import client_ip, parse_pk
from lianhu.common.search_keys import id_number_hash
from lianhu.common.registry import apply_all

from . import services
from .filters import HouseholdFilter
from .hooks import household_member, household_rows
from .models import Branch, BranchKind, CareTag, Gender, Grid, Household, Office, Relation, Resident, SensitiveTag
from .rules import roster_branches

# The limits of the models, stated in the schema so that a client knows them before it is refused (inside
# the type: on a `... | None` field pydantic would write them beside the union, where they mean nothing).
Lng = number(ge=-180, le=180)
Lat = number(ge=-90, le=90)
Floors = integer(ge=1, le=60)
BuiltYear = integer(ge=1900, le=2100)

router = Router(tags=["组织与户籍"])

ROSTER = "edit_roster"


# ---- schemas ---------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class HouseholdRef(Schema):
    id: int
    code: str
    address: str


class OfficeOut(Schema):
    id: int
    name: str
    code: str
    zone: Ref


class BranchOut(Schema):
    id: int
    name: str
    kind: BranchKind
    kind_label: str
    code: str
    office: Ref

    @staticmethod
    def resolve_kind_label(obj: Branch):
        return obj.get_kind_display()


class GridOut(Schema):
    id: int
    name: str
    code: str
    branch: Ref


class HouseholdOut(Schema):
    id: int
    code: str
    address: str
    villager_group: str
    branch: Ref
    grid: Ref
    lng: float | None
    lat: float | None
    self_built: bool
    floors: int | None
    built_year: int | None
    notes: str
    last_visited_at: dt.datetime | None
    active_member: Ref | None

    @staticmethod
    def resolve_active_member(obj: Household):
        """The member who looks after the household now, as the app that links them says (members)."""
        return next((found for get in household_member if (found := get(obj)) is not None), None)


class HouseholdCreate(Schema):
    branch: Int
    grid: Int = Field(..., description="须属于所选支部（否则 409）")
    address: Text = Field(..., min_length=1, max_length=200)
    code: Text = Field("", max_length=20, description="户编号，全库唯一（重复则 409）；留空则按支部代码自动编号")
    villager_group: Text = Field("", max_length=50)
    lng: Lng | None = None
    lat: Lat | None = None
    self_built: Bool = False
    floors: Floors | None = None
    built_year: BuiltYear | None = None
    notes: Text = ""


# In the PATCH schemas a field left out stays as it is; null is accepted only where the field may be
# empty (a non-optional type with a None default: pydantic does not validate defaults).
class HouseholdUpdate(Schema):
    branch: Int = Field(None, description="调往其他支部：有联系党员的户不能调（409）")
    grid: Int = Field(None, description="须属于户所在（或同时调往）的支部（否则 409）")
    address: Text = Field(None, min_length=1, max_length=200)
    code: Text = Field(None, max_length=20, description="户编号，全库唯一（重复则 409）；空字符串表示重新自动编号")
    villager_group: Text = Field(None, max_length=50)
    lng: Lng | None = None
    lat: Lat | None = None
    self_built: Bool = None
    floors: Floors | None = None
    built_year: BuiltYear | None = None
    notes: Text = None


class ResidentOut(PersonOut):
    """Masked: never the cipher or hash columns, never the sensitive tags."""

    id: int
    household: HouseholdRef
    name: str
    gender: Gender
    relation: Relation
    care_tags: list[str]
    id_number_masked: str
    phone_masked: str


class ResidentCreate(Schema):
    household: Int
    name: Text = Field(..., min_length=1, max_length=50)
    gender: Gender
    birth_date: Date | None = None
    relation: Relation = Relation.HEAD
    care_tags: list[CareTag] = []
    id_number: IdNumberIn | None = Field(None, description="已登记的号码不能再登记（409）")
    phone: PhoneIn | None = None
    sensitive_tags: list[SensitiveTag] | None = None


class ResidentUpdate(Schema):
    household: Int = None
    name: Text = Field(None, min_length=1, max_length=50)
    gender: Gender = None
    birth_date: Date | None = None
    relation: Relation = None
    care_tags: list[CareTag] = None
    id_number: IdNumberIn | Literal[""] = Field(None, description="空字符串表示清除；已登记的号码不能再登记（409）")
    phone: PhoneIn | Literal[""] = Field(None, description="空字符串表示清除")
    sensitive_tags: list[SensitiveTag] = Field(None, description="空列表表示清除")


class IdNumberSearch(Schema):
    id_number: str = Field(..., min_length=1, max_length=32, description="身份证号（全角数字、小写 x 均可）")


class RevealIn(Schema):
    field: Literal["id_number", "phone", "sensitive_tags", "birth_date"]


class RevealOut(Schema):
    field: str
    value: str


# ---- offices, branches, grids (read-only here) ----------------------------------------------------


@router.get("/offices", response={200: list[OfficeOut], **errors(400, 422)})
@paginate(Page)
def office_list(request):
    return Office.objects.visible_to(request.user).select_related("zone")


@router.get("/offices/{office_id}", response={200: OfficeOut, **errors(404, 422)})
def office_detail(request, office_id: int):
    return scoped_get(request, Office, office_id, queryset=Office.objects.select_related("zone"))


@router.get("/branches", response={200: list[BranchOut], **errors(400, 422)})
@paginate(Page)
def branch_list(request, office: Id | None = None):
    branches = Branch.objects.visible_to(request.user).select_related("office")
    if office is not None:
        branches = branches.filter(office_id=office)
    return branches


@router.get("/branches/{branch_id}", response={200: BranchOut, **errors(404, 422)})
def branch_detail(request, branch_id: int):
    return scoped_get(request, Branch, branch_id, queryset=Branch.objects.select_related("office"))


@router.get("/grids", response={200: list[GridOut], **errors(400, 422)})
@paginate(Page)
def grid_list(request, branch: Id | None = None):
    grids = Grid.objects.visible_to(request.user).select_related("branch")
    if branch is not None:
        grids = grids.filter(branch_id=branch)
    return grids


@router.get("/grids/{grid_id}", response={200: GridOut, **errors(404, 422)})
def grid_detail(request, grid_id: int):
    return scoped_get(request, Grid, grid_id, queryset=Grid.objects.select_related("branch"))


# ---- households -----------------------------------------------------------------------------------


def _households():
    return apply_all(household_rows, Household.objects.select_related("branch", "grid"))


@router.get("/households", response={200: list[HouseholdOut], **errors(400, 422, 429)})
@paginate(Page)
def household_list(request, branch: Id | None = None, grid: Id | None = None, linked: bool | None = None,
                   q: Text = ""):
    """The list page's filters (HouseholdFilter): q searches as the page does; an ID number is audited."""
    data = {"branch": branch, "grid": grid, "q": q, "linked": None if linked is None else ("yes" if linked else "no")}
    households = HouseholdFilter({k: v for k, v in data.items() if v not in (None, "")}, user=request.user,
                                 queryset=_households().visible_to(request.user))
    if households.id_lookup:
        audit_id_lookup(request, households.id_lookup)
    return households.results


def _roster_branch(request, pk) -> Branch:
    """A branch the user may register households in (a grid worker: his grid's), or 404."""
    branch = roster_branches(request.user).filter(pk=pk).first() if (pk := parse_pk(pk)) is not None else None
    if branch is None:
        raise Http404
    return branch


def _household_out(request, response: HttpResponse, pk: int) -> Household:
    household = scoped_get(request, Household, pk, queryset=_households())
    response["ETag"] = etag(household)
    return household


@router.get("/households/{household_id}", response={200: HouseholdOut, **errors(404, 422)})
def household_detail(request, household_id: int, response: HttpResponse):
    return _household_out(request, response, household_id)


@router.post("/households", response={201: HouseholdOut, **errors(400, 403, 404, 409, 422)})
def household_create(request, payload: HouseholdCreate, response: HttpResponse):
    data = payload.dict()
    data["branch"] = _roster_branch(request, data["branch"])
    data["grid"] = scoped_get(request, Grid, data["grid"], ROSTER)
    household = services.household_create(household=Household(**data), actor=request.user, ip=client_ip(request))
    return Status(201, _household_out(request, response, household.pk))


@router.patch("/households/{household_id}",
              response={200: HouseholdOut, **errors(400, 403, 404, 409, 412, 422)})
def household_update(request, household_id: int, payload: HouseholdUpdate, response: HttpResponse,
                     if_match: IfMatch = None):
    """Only the fields sent change. With If-Match, 412 when the household changed since that version."""
    household = scoped_get(request, Household, household_id, ROSTER)
    changes = payload.dict(exclude_unset=True)
    if "branch" in changes:
        changes["branch"] = _roster_branch(request, changes["branch"])
    if "grid" in changes:
        changes["grid"] = scoped_get(request, Grid, changes["grid"], ROSTER)
    services.household_update(household=household, changes=changes, actor=request.user, ip=client_ip(request),
                              expected_version=expected_versions(if_match))
    return _household_out(request, response, household.pk)


# ---- residents ------------------------------------------------------------------------------------

SEALED = ("id_number", "phone", "sensitive_tags")


def _residents():
    return Resident.objects.select_related("household")


@router.get("/residents", response={200: list[ResidentOut], **errors(400, 422)})
@paginate(Page)
def resident_list(request, household: Id | None = None, q: Text = ""):
    """q: part of the name, or the start of its pinyin initials (单雪梅 → sxm)."""
    residents = _residents().visible_to(request.user)
    if household is not None:
        residents = residents.filter(household_id=household)
    if q := q.strip():
        residents = residents.filter(Q(name__contains=q) | Q(name_initials__startswith=q.lower()))
    return residents


@router.post("/residents/search", response={200: list[ResidentOut], **errors(400, 403, 422, 429)})
@paginate(Page)
def resident_search(request, payload: IdNumberSearch):
    """Exact match on an ID number, posted so that it never sits in a URL or an access log; audited."""
    audit_id_lookup(request, payload.id_number)
    return _residents().visible_to(request.user).filter(id_number_hash=id_number_hash(payload.id_number))


def _resident_out(request, response: HttpResponse, pk: int) -> Resident:
    resident = scoped_get(request, Resident, pk, queryset=_residents())
    response["ETag"] = etag(resident)
    return resident


@router.get("/residents/{resident_id}", response={200: ResidentOut, **errors(404, 422)})
def resident_detail(request, resident_id: int, response: HttpResponse):
    return _resident_out(request, response, resident_id)


@router.post("/residents", response={201: ResidentOut, **errors(400, 403, 404, 409, 422, 429)})
def resident_create(request, payload: ResidentCreate, response: HttpResponse):
    data = payload.dict()
    sealed = {name: data.pop(name) for name in SEALED}
    data["household"] = scoped_get(request, Household, data["household"], ROSTER)
    resident = services.resident_create(resident=Resident(**data), actor=request.user, ip=client_ip(request),
                                        **sealed)
    return Status(201, _resident_out(request, response, resident.pk))


@router.patch("/residents/{resident_id}",
              response={200: ResidentOut, **errors(400, 403, 404, 409, 412, 422, 429)})
def resident_update(request, resident_id: int, payload: ResidentUpdate, response: HttpResponse,
                    if_match: IfMatch = None):
    """Only the fields sent change. With If-Match, 412 when the resident changed since that version."""
    resident = scoped_get(request, Resident, resident_id, ROSTER)
    changes = payload.dict(exclude_unset=True)
    sealed = {name: changes.pop(name) for name in SEALED if name in changes}
    if "household" in changes:
        changes["household"] = scoped_get(request, Household, changes["household"], ROSTER)
    services.resident_update(resident=resident, changes=changes, actor=request.user, ip=client_ip(request),
                             expected_version=expected_versions(if_match), **sealed)
    return _resident_out(request, response, resident.pk)


@router.post("/residents/{resident_id}/reveal", response={200: RevealOut, **errors(400, 403, 404, 422)})
def resident_reveal(request, resident_id: int, payload: RevealIn):
    """The clear value of one masked field; audited. Users who may not reveal it get 404."""
    resident = scoped_get(request, Resident, resident_id)
    try:
        value = personal_data_reveal(user=request.user, obj=resident, field=payload.field, ip=client_ip(request))
    except PermissionDenied:
        raise Http404 from None
    return {"field": payload.field, "value": value}
