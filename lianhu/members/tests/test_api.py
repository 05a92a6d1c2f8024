import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PksOf, api_call, api_ids
from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.tests.factories import make_household
from lianhu.members.models import EndReason, LiaisonLink, MemberStatus, PartyMember

pytestmark = pytest.mark.django_db

call, ids = api_call, api_ids


EXEMPT = {"reason": "病", "since": "2026-03-01", "approved_by": "甲办事处党工委", "post": "政策宣传岗"}

# Every endpoint, with an object of branch A, a persona who may use it on that object (and the status
# he gets), and personas on the other side of the boundary, for whom it does not exist.
ENDPOINTS = [
    ("get", "/members/{member_a}", None, "member_user", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("post", "/members", lambda w: {"branch": w.branch_a.pk, "name": "周建军", "gender": "M"},
     "secretary_a", 201, ["secretary_b", "grid_worker_a", "member_user", "zone_admin", "other_office_admin"]),
    ("patch", "/members/{member_a}", lambda w: {"post": "治安巡逻岗"},
     "secretary_a", 200, ["secretary_b", "grid_worker_a", "member_user", "zone_admin", "other_office_admin"]),
    ("post", "/members/{member_a}/exempt", lambda w: EXEMPT,
     "office_staff", 200, ["secretary_b", "grid_worker_a", "member_user", "zone_admin", "other_office_admin"]),
    ("get", "/links/{link_a}", None, "member_user", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("post", "/links", lambda w: {"member": w.member_a.pk, "household": w.household_a2.pk},
     "secretary_a", 201, ["secretary_b", "grid_worker_a", "member_user", "zone_admin", "other_office_admin"]),
    ("post", "/links/{link_a}/end", None,
     "office_admin", 200, ["secretary_b", "grid_worker_a", "member_user", "zone_admin", "other_office_admin"]),
]


def _counts():
    return (AuditEntry.objects.count(), PartyMember.objects.count(), LiaisonLink.objects.count(),
            LiaisonLink.objects.active().count(), PartyMember.objects.filter(status=MemberStatus.ACTIVE).count())


@pytest.mark.parametrize(
    "method,url,body_of,outsider",
    [pytest.param(m, u, b, o, id=f"{m.upper()} {u} as {o}") for m, u, b, _i, _s, outs in ENDPOINTS for o in outs],
)
def test_an_object_outside_the_users_scope_answers_404_and_nothing_is_written(
    world, client_for, method, url, body_of, outsider
):
    before = _counts()
    client = client_for(getattr(world, outsider))
    response = call(client, method, url.format_map(PksOf(world)), body_of(world) if body_of else None)
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "未找到，或不在您的管辖范围内"}
    assert _counts() == before


@pytest.mark.parametrize(
    "method,url,body_of,insider,status",
    [pytest.param(m, u, b, i, s, id=f"{m.upper()} {u} as {i}") for m, u, b, i, s, _outs in ENDPOINTS],
)
def test_the_same_endpoint_works_for_a_user_inside_the_scope(world, client_for, method, url, body_of, insider, status):
    client = client_for(getattr(world, insider))
    response = call(client, method, url.format_map(PksOf(world)), body_of(world) if body_of else None)
    assert response.status_code == status, response.content


LISTS = [
    ("/members", "office_admin", lambda w: {w.member_a.pk, w.member_a_exempt.pk, w.member_b.pk}),
    ("/members", "secretary_a", lambda w: {w.member_a.pk, w.member_a_exempt.pk}),
    ("/members", "advisor_b", lambda w: {w.member_b.pk}),
    ("/members", "member_user", lambda w: {w.member_a.pk}),
    ("/members", "grid_worker_a", lambda w: {w.member_a.pk}),  # the member who lives in his grid
    ("/members", "other_office_admin", lambda w: {w.member_other.pk}),
    ("/links", "secretary_a", lambda w: {w.link_a.pk}),
    ("/links", "secretary_b", lambda w: set(w.member_b.links.values_list("pk", flat=True))),
    ("/links", "member_user", lambda w: {w.link_a.pk}),
    ("/links", "zone_admin", lambda w: set(LiaisonLink.objects.values_list("pk", flat=True))),
]


@pytest.mark.parametrize("url,persona,expected", [pytest.param(*case, id=f"{case[0]} as {case[1]}") for case in LISTS])
def test_lists_contain_only_rows_in_the_users_scope(world, client_for, url, persona, expected):
    assert ids(call(client_for(getattr(world, persona)), "get", url)) == expected(world)


def test_filtering_by_a_member_out_of_scope_finds_nothing(world, client_for):
    client = client_for(world.secretary_a)
    assert ids(call(client, "get", f"/links?member={world.member_b.pk}")) == set()
    assert ids(call(client, "get", f"/members?branch={world.branch_b.pk}")) == set()


def test_members_filter_by_status_and_by_name_or_pinyin_initials(world, client_for):
    w = world
    client = client_for(w.office_admin)
    assert ids(call(client, "get", "/members?status=exempt")) == {w.member_a_exempt.pk}
    assert ids(call(client, "get", f"/members?branch={w.branch_a.pk}&status=active")) == {w.member_a.pk}
    assert ids(call(client, "get", "/members?q=红梅")) == {w.member_b.pk}
    assert ids(call(client, "get", "/members?q=LJ")) == {w.member_a.pk}
    assert call(client, "get", "/members?status=unknown").status_code == 422


def test_a_member_is_shown_with_masked_phone_his_active_links_and_capacity(world, client_for):
    response = call(client_for(world.secretary_a), "get", f"/members/{world.member_a.pk}")
    body = response.json()
    assert (body["phone_masked"], body["active_links"], body["capacity"]) == ("138****8000", 1, 10)
    assert (body["status"], body["status_label"], body["branch"]["name"]) == ("active", "联户", "甲村")
    assert not {"phone_cipher", "phone_hash", "id_number_cipher", "id_number_hash", "phone"} & set(body)
    assert "13800138000" not in response.content.decode()


def test_a_secretary_registers_a_member_of_his_branch(world, client_for):
    w = world
    response = call(client_for(w.secretary_a), "post", "/members", {
        "branch": w.branch_a.pk, "grid": w.grid_a2.pk, "name": "单国华", "gender": "M", "capacity": 8,
        "phone": "13600001111", "joined_party_on": "1998-07-01",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["phone_masked"], body["active_links"], body["grid"]["id"]) == ("136****1111", 0, w.grid_a2.pk)
    member = PartyMember.objects.get(pk=body["id"])
    assert (member.name_initials, member.reveal_phone(), member.joined_party_on) == (
        "sgh", "13600001111", dt.date(1998, 7, 1))
    assert AuditEntry.objects.filter(action="create", object_type="members.partymember",
                                     object_id=str(member.pk), actor=w.secretary_a).exists()


def test_a_capacity_below_the_households_already_linked_is_refused_as_a_conflict(world, client_for):
    w = world
    make_link(w.member_a, w.household_a2)
    response = call(client_for(w.secretary_a), "patch", f"/members/{w.member_a.pk}", {"capacity": 1})
    assert response.status_code == 409
    assert response.json() == {"detail": "可联系户数不能少于当前已联系的户数（2 户）",
                               "errors": {"capacity": ["可联系户数不能少于当前已联系的户数（2 户）"]}}
    w.member_a.refresh_from_db()
    assert w.member_a.capacity == 10


def test_a_members_grid_can_be_cleared_but_his_capacity_cannot_be_null(world, client_for):
    client = client_for(world.secretary_a)
    response = call(client, "patch", f"/members/{world.member_a.pk}", {"capacity": None})
    assert response.status_code == 422
    assert response.json()["errors"] == {"capacity": ["应为整数"]}
    response = call(client, "patch", f"/members/{world.member_a.pk}", {"grid": None})
    assert (response.status_code, response.json()["grid"]) == (200, None)


def test_a_member_cannot_be_moved_to_a_branch_out_of_the_writers_scope(world, client_for):
    response = call(client_for(world.secretary_a), "patch", f"/members/{world.member_a.pk}",
                    {"branch": world.branch_b.pk})
    assert response.status_code == 404
    world.member_a.refresh_from_db()
    assert world.member_a.branch == world.branch_a


def test_linking_a_household_creates_an_active_link_and_an_audit_entry(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    response = call(client, "post", "/links", {"member": w.member_a.pk, "household": w.household_a2.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["member"]["name"], body["household"]["id"], body["is_active"]) == ("李建国", w.household_a2.pk, True)
    assert LiaisonLink.objects.active().get(household=w.household_a2).member == w.member_a
    entry = AuditEntry.objects.get(action="link")
    assert (entry.actor, entry.object_id, entry.ip) == (w.secretary_a, str(w.household_a2.pk), "127.0.0.1")


def test_linking_a_household_that_has_a_member_moves_it_and_keeps_the_history(world, client_for):
    w = world
    other = make_member(w.branch_a, "王建设")
    response = call(client_for(w.secretary_a), "post", "/links", {"member": other.pk, "household": w.household_a.pk})
    assert response.status_code == 201, response.content
    w.link_a.refresh_from_db()
    assert (w.link_a.is_active, w.link_a.end_reason) == (False, EndReason.REASSIGNED)
    assert LiaisonLink.objects.active().get(household=w.household_a).member == other
    history = call(client_for(w.secretary_a), "get", f"/links?household={w.household_a.pk}").json()["items"]
    assert [(link["member"]["name"], link["is_active"]) for link in history] == [("王建设", True), ("李建国", False)]


def test_a_member_cannot_have_joined_the_party_before_he_was_born(world, client_for):
    response = call(client_for(world.secretary_a), "patch", f"/members/{world.member_a.pk}",
                    {"birth_date": "1970-05-05", "joined_party_on": "1968-07-01"})
    assert response.status_code == 422, response.content
    assert "入党日期（1968-07-01）早于出生日期" in response.content.decode()
    world.member_a.refresh_from_db()
    assert world.member_a.birth_date is None and world.member_a.joined_party_on is None


def _refused(response, message):
    """Refused for the state of the data (lianhu.common.conflicts): 409, the message for the whole request."""
    assert response.status_code == 409, response.content
    assert response.json() == {"detail": message, "errors": {"__all__": [message]}}


def test_linking_beyond_the_members_capacity_is_refused_and_nothing_changes(world, client_for):
    w = world
    PartyMember.objects.filter(pk=w.member_a.pk).update(capacity=1)
    before = _counts()
    client = client_for(w.secretary_a)
    response = call(client, "post", "/links", {"member": w.member_a.pk, "household": w.household_a2.pk})
    _refused(response, "党员李建国已联系 1 户，达到可联系户数上限（1 户）")
    assert _counts() == before


def test_linking_to_an_exempt_member_is_refused_and_nothing_changes(world, client_for):
    w = world
    before = _counts()
    response = call(client_for(w.secretary_a), "post", "/links",
                    {"member": w.member_a_exempt.pk, "household": w.household_a2.pk})
    _refused(response, "党员张福来当前状态为“丧失联户能力”，不能联系户")
    assert _counts() == before


def test_linking_a_member_to_a_household_of_another_branch_is_refused(world, client_for):
    w = world
    client = client_for(w.office_admin)
    response = call(client, "post", "/links", {"member": w.member_b.pk, "household": w.household_a2.pk})
    _refused(response, "党员刘红梅与该户不属于同一支部")
    assert not LiaisonLink.objects.filter(household=w.household_a2).exists()


def test_ending_a_link_leaves_the_household_without_a_member_and_cannot_be_done_twice(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    response = call(client, "post", f"/links/{w.link_a.pk}/end")
    assert response.status_code == 200, response.content
    assert (response.json()["is_active"], response.json()["end_reason_label"]) == (False, "手工解除")
    assert ids(call(client, "get", "/households?linked=false")) == {w.household_a.pk, w.household_a2.pk}
    assert ids(call(client, "get", "/links?active=true")) == set()
    _refused(call(client, "post", f"/links/{w.link_a.pk}/end"), "该联系关系已经结束")


def test_marking_a_member_exempt_releases_his_households(world, client_for):
    w = world
    make_link(w.member_a, w.household_a2)
    response = call(client_for(w.secretary_a), "post", f"/members/{w.member_a.pk}/exempt", EXEMPT)
    assert response.status_code == 200, response.content
    assert response.json() == {"released": 2}
    w.member_a.refresh_from_db()
    assert (w.member_a.status, w.member_a.exempt_reason, w.member_a.exempt_since, w.member_a.post) == (
        MemberStatus.EXEMPT, "病", dt.date(2026, 3, 1), "政策宣传岗")
    assert not LiaisonLink.objects.active().filter(member=w.member_a).exists()
    assert AuditEntry.objects.filter(action="exempt", object_id=str(w.member_a.pk)).exists()


def test_an_exemption_needs_a_known_reason_and_an_approver(world, client_for):
    response = call(client_for(world.secretary_a), "post", f"/members/{world.member_a.pk}/exempt",
                    {"reason": "懒", "since": "2026-03-01", "approved_by": ""})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"reason", "approved_by"}
    world.member_a.refresh_from_db()
    assert world.member_a.status == MemberStatus.ACTIVE


def _list_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = call(client, "get", url)
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("url", ["/members", "/links"])
def test_member_and_link_lists_take_the_same_number_of_queries_for_few_or_many_rows(world, client_for, url):
    w = world
    client = client_for(w.secretary_a)
    few, count = _list_queries(client, url)
    for n in range(20):
        make_link(make_member(w.branch_a, f"党员{n}", grid=w.grid_a), make_household(w.grid_a))
    many, more = _list_queries(client, url)
    assert more == count + 20
    assert many == few


# The household API shows each household's member (members fills org's hook): no query per row.
def _households_list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = call(client, "get", "/households")
    return len(queries), response.json()["count"]


def test_the_household_list_takes_the_same_number_of_queries_for_3_or_30_rows(world, client_for):
    w = world
    client = client_for(w.office_admin)
    few, count = _households_list_queries(client)
    member = make_member(w.branch_a, "周建军", capacity=30)
    for n in range(27):
        household = make_household(w.grid_a if n % 2 else w.grid_a2)
        if n % 3:
            make_link(member, household)
    many, more = _households_list_queries(client)
    assert (count, more) == (3, 30)
    assert many == few
