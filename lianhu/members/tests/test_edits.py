"""Concurrent edits of members and links: a member's PATCH changes only what it sends, on the row as it is
now, a stale version is refused (412, or the form again), and a link is ended once however many try."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from lianhu.accounts.tests.factories import VerifiedClient
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import api_call, at_once, meanwhile
from lianhu.members import api as members_api
from lianhu.members import services
from lianhu.members.models import EndReason, LiaisonLink, MemberStatus, PartyMember

pytestmark = pytest.mark.django_db

call = api_call

EXEMPT = {"reason": "病", "since": "2026-03-01", "approved_by": "甲办事处党工委", "post": "政策宣传岗"}


def client_of(user) -> VerifiedClient:
    client = VerifiedClient()
    client.force_login(user)
    return client


def unlinks(household) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="unlink", object_id=str(household.pk)))


# ---- members --------------------------------------------------------------------------------------


def test_a_patch_that_read_the_member_before_another_patch_keeps_the_other_patchs_fields(
        world, client_for, monkeypatch):
    w = world
    other = client_of(w.office_admin)
    meanwhile(monkeypatch, members_api, "scoped_get",
              lambda: call(other, "patch", f"/members/{w.member_a.pk}", {"capacity": 12, "phone": "13600001111"}),
              when=lambda request, model, pk, action="view", **kw: model is PartyMember and action == "manage_members")
    response = call(client_for(w.secretary_a), "patch", f"/members/{w.member_a.pk}", {"post": "治安巡逻岗"})
    assert response.status_code == 200, response.content
    m = PartyMember.objects.get(pk=w.member_a.pk)
    assert (m.capacity, m.reveal_phone(), m.post) == (12, "13600001111", "治安巡逻岗")


def test_a_member_patch_naming_an_older_version_answers_412_and_writes_nothing(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = f"/api/v1/members/{w.member_a.pk}"
    version = client.get(url)["ETag"]
    assert re.fullmatch(r'W/"\d+"', version)
    assert call(client_of(w.office_admin), "patch", f"/members/{w.member_a.pk}", {"post": "治安巡逻岗"}).status_code == 200
    entries = AuditEntry.objects.count()
    response = client.patch(url, data={"capacity": 3, "phone": "13600001111"}, content_type="application/json",
                            headers={"If-Match": version})
    assert (response.status_code, response.json()) == (412, {"detail": "已被他人修改"})
    m = PartyMember.objects.get(pk=w.member_a.pk)
    assert (m.capacity, m.reveal_phone(), m.post) == (10, "13800138000", "治安巡逻岗")
    assert AuditEntry.objects.count() == entries

    current = client.get(url)["ETag"]
    response = client.patch(url, data={"capacity": 3}, content_type="application/json", headers={"If-Match": current})
    assert response.status_code == 200 and response.json()["capacity"] == 3
    assert response["ETag"] not in (version, current)


def test_an_exemption_naming_an_older_version_answers_412_and_releases_nothing(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    version = client.get(f"/api/v1/members/{w.member_a.pk}")["ETag"]
    call(client_of(w.office_admin), "patch", f"/members/{w.member_a.pk}", {"capacity": 12})
    response = client.post(f"/api/v1/members/{w.member_a.pk}/exempt", data=EXEMPT, content_type="application/json",
                           headers={"If-Match": version})
    assert response.status_code == 412
    w.member_a.refresh_from_db()
    assert w.member_a.status == MemberStatus.ACTIVE and LiaisonLink.objects.get(pk=w.link_a.pk).is_active


def test_the_openapi_document_lists_the_412_of_a_members_patch_and_exemption(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "412" in paths["/api/v1/members/{member_id}"]["patch"]["responses"]
    assert "412" in paths["/api/v1/members/{member_id}/exempt"]["post"]["responses"]


def test_a_member_form_saved_after_someone_else_saved_shows_the_stored_values_and_writes_nothing(
        world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = reverse("members:member_edit", args=[w.member_a.pk])
    version = re.search(r'name="version" value="(\d+)"', client.get(url).content.decode()).group(1)
    call(client_of(w.office_admin), "patch", f"/members/{w.member_a.pk}", {"capacity": 12})
    response = client.post(url, {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "name": "李建国", "gender": "M",
                                 "capacity": 10, "post": "治安巡逻岗", "version": version})
    body = response.content.decode()
    assert response.status_code == 200 and "该记录已被他人修改，以下为最新内容，请核对后重新提交" in body
    assert 'name="capacity" value="12"' in body and "您刚才填写的是：治安巡逻岗" in body
    m = PartyMember.objects.get(pk=w.member_a.pk)
    assert (m.capacity, m.post) == (12, "")


def test_an_import_that_changes_a_member_makes_a_form_read_before_it_stale(world, client_for):
    from lianhu.members.tests.test_spreadsheets import member_row, members

    w = world
    client = client_for(w.secretary_a)
    url = reverse("members:member_edit", args=[w.member_a.pk])
    version = re.search(r'name="version" value="(\d+)"', client.get(url).content.decode()).group(1)
    assert members(w, member_row(branch="甲村", name="李建国", capacity=9)).ok
    response = client.post(url, {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "name": "李建国", "gender": "M",
                                 "capacity": 10, "post": "治安巡逻岗", "version": version})
    assert "该记录已被他人修改" in response.content.decode()
    m = PartyMember.objects.get(pk=w.member_a.pk)
    assert (m.capacity, m.post) == (9, "")


# ---- ending a link --------------------------------------------------------------------------------


def test_ending_a_link_read_before_someone_else_ended_it_is_refused_and_the_first_end_stays(world):
    w = world
    read_earlier = LiaisonLink.objects.get(pk=w.link_a.pk)
    services.link_end(link=w.link_a, actor=w.secretary_a, reason=EndReason.MANUAL)
    with pytest.raises(ValidationError, match="该联系关系已经结束"):
        services.link_end(link=read_earlier, actor=w.office_admin, reason=EndReason.REASSIGNED,
                          ended_on=dt.date(2026, 6, 1))
    link = LiaisonLink.objects.get(pk=w.link_a.pk)
    assert (link.end_reason, link.ended_by, link.ended_on) == (EndReason.MANUAL, w.secretary_a, timezone.localdate())
    assert len(unlinks(w.household_a)) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_a_link_ended_by_several_at_once_is_ended_once_and_keeps_the_first_end(world):
    """Ends by hand through the API, by two users, while the member is marked exempt (which ends it too)."""
    w = world
    enders = [client_of(u) for u in (w.secretary_a, w.office_admin, w.secretary_a, w.office_admin)]
    exempting = client_of(w.office_staff)
    results = at_once([lambda c=c: call(c, "post", f"/links/{w.link_a.pk}/end") for c in enders]
                      + [lambda: call(exempting, "post", f"/members/{w.member_a.pk}/exempt", EXEMPT)])
    *ends, exempt = results
    assert exempt.status_code == 200, exempt.content
    ended = [r for r in ends if r.status_code == 200]
    refused = [r for r in ends if r.status_code != 200]
    assert len(ended) + exempt.json()["released"] == 1
    assert all(r.status_code == 409 and r.json()["detail"] == "该联系关系已经结束" for r in refused)
    (entry,) = unlinks(w.household_a)
    link = LiaisonLink.objects.get(pk=w.link_a.pk)
    assert (link.end_reason, link.ended_by_id) == (entry.detail["reason"], entry.actor_id)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_a_link_ended_with_different_reasons_at_once_keeps_the_reason_of_the_one_end_logged(world):
    w = world
    people = [w.secretary_a, w.office_admin, w.office_staff] * 2
    reasons = [EndReason.MANUAL, EndReason.REASSIGNED] * 3
    results = at_once([lambda u=u, r=r: services.link_end(link=w.link_a, actor=u, reason=r)
                       for u, r in zip(people, reasons)])
    assert sum(isinstance(r, LiaisonLink) for r in results) == 1
    assert all(r.messages == ["该联系关系已经结束"] for r in results if not isinstance(r, LiaisonLink))
    (entry,) = unlinks(w.household_a)
    link = LiaisonLink.objects.get(pk=w.link_a.pk)
    assert (link.end_reason, link.ended_by_id) == (entry.detail["reason"], entry.actor_id)
