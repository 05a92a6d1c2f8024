"""Party members and liaison links under /api/v1.

Reads use the "view" scope; every write (members, links, exemption) uses "manage_members", for the
object and for every foreign key in the body, so an id out of the writer's scope answers 404.
A member comes with his version as an ETag; a PATCH or an exemption with an If-Match naming an older
version answers 412 and writes nothing (lianhu.common.api).
"""

import datetime as dt
from typing import Literal

from django.db.models import Count, Q
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from lianhu.audit.lookups import audit_id_lookup
from lianhu.common.http import client_ip
from lianhu.common.api import (Date, Id, IdNumberIn, IfMatch, Int, Page, PersonOut, PhoneIn, Text, errors, etag,
                               expected_versions, integer, scoped_get)
from lianhu.common.search_keys import id_number_hash
from lianhu.org.api import HouseholdRef, IdNumberSearch, Lat, Lng, Ref
from lianhu.org.models import Branch, Gender, Grid, Household

from . import services
from .filters import MemberFilter
from .models import MAX_CAPACITY, PARTY_AGE, EndReason, ExemptReason, LiaisonLink, MemberStatus, PartyMember

router = Router(tags=["党员与联系户"])

MANAGE = "manage_members"


# ---- schemas ---------------------------------------------------------------------------------------


class MemberOut(PersonOut):
    id: int
    branch: Ref
    grid: Ref | None
    name: str
    gender: Gender
    joined_party_on: dt.date | None
    address: str
    lng: float | None
    lat: float | None
    status: MemberStatus
    status_label: str
    capacity: int
    active_links: int
    exempt_reason: str
    exempt_since: dt.date | None
    exempt_approved_by: str
    post: str
    id_number_masked: str
    phone_masked: str

    @staticmethod
    def resolve_status_label(obj: PartyMember):
        return obj.get_status_display()


BIRTH_DATE = f"党员须年满 {PARTY_AGE} 周岁（按出生日期，未填则按身份证号）"
JOINED = "入党日期不能早于出生日期"
Capacity = integer(ge=0, le=MAX_CAPACITY)


class MemberCreate(Schema):
    branch: Int
    grid: Int | None = Field(None, description="须属于所选支部（否则 409）")
    name: Text = Field(..., min_length=1, max_length=50)
    gender: Gender
    birth_date: Date | None = Field(None, description=BIRTH_DATE)
    joined_party_on: Date | None = Field(None, description=JOINED)
    address: Text = Field("", max_length=200)
    lng: Lng | None = None
    lat: Lat | None = None
    capacity: Capacity = Field(10, description="可联系户数")
    post: Text = Field("", max_length=50)
    id_number: IdNumberIn | None = Field(None, description="已登记的号码不能再登记（409）")
    phone: PhoneIn | None = None


class MemberUpdate(Schema):
    """Status changes have their own endpoint (exempt); the rest is edited here.

    A field left out stays as it is; null is accepted only where the field may be empty.
    """

    branch: Int = Field(None, description="调往其他支部：仍有联系户的党员不能调（409）")
    grid: Int | None = Field(None, description="须属于党员所在（或同时调往）的支部（否则 409）")
    name: Text = Field(None, min_length=1, max_length=50)
    gender: Gender = None
    birth_date: Date | None = Field(None, description=BIRTH_DATE)
    joined_party_on: Date | None = Field(None, description=JOINED)
    address: Text = Field(None, max_length=200)
    lng: Lng | None = None
    lat: Lat | None = None
    capacity: Capacity = Field(None, description="可联系户数：不能少于当前已联系的户数（409）")
    post: Text = Field(None, max_length=50)
    id_number: IdNumberIn | Literal[""] = Field(None, description="空字符串表示清除；已登记的号码不能再登记（409）")
    phone: PhoneIn | Literal[""] = Field(None, description="空字符串表示清除")


class ExemptIn(Schema):
    reason: ExemptReason
    since: Date = Field(..., description="认定日期，不能晚于今天")
    approved_by: Text = Field(..., min_length=1, max_length=50)
    post: Text = Field("", max_length=50, description="设岗定责：所担任的岗位")


class ExemptOut(Schema):
    released: int = Field(..., description="因此解除联系、需要重新安排党员的户数")


class LinkOut(Schema):
    id: int
    member: Ref
    household: HouseholdRef
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str
    end_reason_label: str
    is_active: bool

    @staticmethod
    def resolve_end_reason_label(obj: LiaisonLink):
        return obj.get_end_reason_display()


class LinkCreate(Schema):
    """A member in his branch's 联户 status, with room under his capacity, for a household of his branch
    (otherwise 409); a household linked to another member is moved to this one."""

    member: Int
    household: Int


# ---- members --------------------------------------------------------------------------------------

SEALED = ("id_number", "phone")


def _members():
    return PartyMember.objects.select_related("branch", "grid").annotate(
        active_links=Count("links", filter=Q(links__ended_on__isnull=True))
    )


@router.get("/members", response={200: list[MemberOut], **errors(400, 422, 429)})
@paginate(Page)
def member_list(request, branch: Id | None = None, status: MemberStatus | None = None, q: Text = ""):
    """q: part of the name, the start of its pinyin initials, or an ID number (audited), as on the list page."""
    data = {"branch": branch, "status": status, "q": q}
    members = MemberFilter({k: v for k, v in data.items() if v not in (None, "")}, user=request.user,
                           queryset=_members().visible_to(request.user))
    if members.id_lookup:
        audit_id_lookup(request, members.id_lookup)
    return members.results


@router.post("/members/search", response={200: list[MemberOut], **errors(400, 403, 422, 429)})
@paginate(Page)
def member_search(request, payload: IdNumberSearch):
    """Exact match on an ID number, posted so that it never sits in a URL or an access log; audited."""
    audit_id_lookup(request, payload.id_number)
    return _members().visible_to(request.user).filter(id_number_hash=id_number_hash(payload.id_number))


def _member_out(request, response: HttpResponse, pk: int) -> PartyMember:
    member = scoped_get(request, PartyMember, pk, queryset=_members())
    response["ETag"] = etag(member)
    return member


@router.get("/members/{member_id}", response={200: MemberOut, **errors(404, 422)})
def member_detail(request, member_id: int, response: HttpResponse):
    return _member_out(request, response, member_id)


def _resolve_member_keys(request, data: dict) -> dict:
    if "branch" in data:
        data["branch"] = scoped_get(request, Branch, data["branch"], MANAGE)
    if data.get("grid") is not None:
        data["grid"] = scoped_get(request, Grid, data["grid"], MANAGE)
    return data


@router.post("/members", response={201: MemberOut, **errors(400, 403, 404, 409, 422, 429)})
def member_create(request, payload: MemberCreate, response: HttpResponse):
    data = _resolve_member_keys(request, payload.dict())
    sealed = {name: data.pop(name) for name in SEALED}
    member = services.member_create(member=PartyMember(**data), actor=request.user, ip=client_ip(request), **sealed)
    return Status(201, _member_out(request, response, member.pk))


@router.patch("/members/{member_id}",
              response={200: MemberOut, **errors(400, 403, 404, 409, 412, 422, 429)})
def member_update(request, member_id: int, payload: MemberUpdate, response: HttpResponse,
                  if_match: IfMatch = None):
    """Only the fields sent change. With If-Match, 412 when the member changed since that version."""
    member = scoped_get(request, PartyMember, member_id, MANAGE)
    changes = _resolve_member_keys(request, payload.dict(exclude_unset=True))
    sealed = {name: changes.pop(name) for name in SEALED if name in changes}
    services.member_update(member=member, changes=changes, actor=request.user, ip=client_ip(request),
                           expected_version=expected_versions(if_match), **sealed)
    return _member_out(request, response, member.pk)


@router.post("/members/{member_id}/exempt",
             response={200: ExemptOut, **errors(400, 403, 404, 409, 412, 422)})
def member_exempt(request, member_id: int, payload: ExemptIn, response: HttpResponse, if_match: IfMatch = None):
    """认定不能联户: the member keeps a post (设岗定责) and his households are released.

    With If-Match, 412 when the member changed since that version; the ETag is his version after."""
    member = scoped_get(request, PartyMember, member_id, MANAGE)
    released = services.member_mark_exempt(member=member, actor=request.user, ip=client_ip(request),
                                           expected_version=expected_versions(if_match), **payload.dict())
    response["ETag"] = etag(PartyMember.objects.get(pk=member.pk))
    return {"released": released}


# ---- links ----------------------------------------------------------------------------------------


def _links():
    return LiaisonLink.objects.select_related("member", "household")


@router.get("/links", response={200: list[LinkOut], **errors(400, 422)})
@paginate(Page)
def link_list(request, member: Id | None = None, household: Id | None = None, active: bool | None = None):
    links = _links().visible_to(request.user)
    if member is not None:
        links = links.filter(member_id=member)
    if household is not None:
        links = links.filter(household_id=household)
    if active is not None:
        links = links.filter(ended_on__isnull=active)
    return links


@router.get("/links/{link_id}", response={200: LinkOut, **errors(404, 422)})
def link_detail(request, link_id: int):
    return scoped_get(request, LiaisonLink, link_id, queryset=_links())


@router.post("/links", response={201: LinkOut, **errors(400, 403, 404, 409, 422)})
def link_create(request, payload: LinkCreate):
    """Link a household to a member; a household that already has one is moved to this member."""
    member = scoped_get(request, PartyMember, payload.member, MANAGE)
    household = scoped_get(request, Household, payload.household, MANAGE)
    link = services.link_create(member=member, household=household, actor=request.user, ip=client_ip(request))
    return Status(201, scoped_get(request, LiaisonLink, link.pk, queryset=_links()))


@router.post("/links/{link_id}/end", response={200: LinkOut, **errors(403, 404, 409, 422)})
def link_end(request, link_id: int):
    link = scoped_get(request, LiaisonLink, link_id, MANAGE)
    services.link_end(link=link, actor=request.user, ip=client_ip(request), reason=EndReason.MANUAL)
    return scoped_get(request, LiaisonLink, link.pk, queryset=_links())
