import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from lianhu.members.tests.factories import make_member
from lianhu.org.tests.factories import make_household
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.members import services

pytestmark = pytest.mark.django_db


def test_marking_a_member_exempt_releases_his_households_into_the_needs_member_list(world, client_for):
    client = client_for(world.secretary_a)
    response = client.post(reverse("members:member_exempt", args=[world.member_a.pk]),
                           {"reason": "病", "since": "2026-11-01", "approved_by": "王书记", "post": "政策宣传岗"})
    assert response.status_code == 302
    world.member_a.refresh_from_db()
    assert (world.member_a.status, world.member_a.exempt_reason, world.member_a.post) == ("exempt", "病", "政策宣传岗")
    link = LiaisonLink.objects.get(pk=world.link_a.pk)
    assert link.ended_on == dt.date(2026, 11, 1) and link.end_reason == "exempt"
    body = client.get(reverse("members:needs_member")).content.decode()
    assert world.household_a.address in body and world.household_a2.address in body


def test_a_released_household_is_relinked_by_hand_and_history_is_kept(world, client_for):
    client = client_for(world.secretary_a)
    services.member_mark_exempt(member=world.member_a, reason="老", since=dt.date(2026, 11, 1), approved_by="王",
                                actor=world.secretary_a)
    new_member = make_member(world.branch_a, "周新民")
    response = client.post(reverse("members:household_link", args=[world.household_a.pk]), {"member": new_member.pk})
    assert response.status_code == 302
    links = list(LiaisonLink.objects.filter(household=world.household_a).order_by("started_on", "id"))
    assert [(l.member.name, l.ended_on is None) for l in links] == [("李建国", False), ("周新民", True)]
    body = client.get(reverse("org:household_detail", args=[world.household_a.pk])).content.decode()
    assert "周新民" in body and "李建国" in body and "党员丧失联户能力" in body


def test_exempt_form_refuses_a_future_date_and_keeps_the_input(world, client_for):
    response = client_for(world.secretary_a).post(reverse("members:member_exempt", args=[world.member_a.pk]),
                                                  {"reason": "病", "since": "2099-01-01", "approved_by": "王书记"})
    assert "认定日期不能晚于今天" in response.content.decode()
    assert 'value="王书记"' in response.content.decode()
    world.member_a.refresh_from_db()
    assert world.member_a.status == MemberStatus.ACTIVE


def test_linking_beyond_capacity_is_refused_in_chinese(world, client_for):
    small = make_member(world.branch_a, "陈满", capacity=1)
    services.link_create(member=small, household=world.household_a2, actor=world.secretary_a)
    extra = make_household(world.grid_a)
    client = client_for(world.secretary_a)
    response = client.post(reverse("members:household_link", args=[extra.pk]), {"member": small.pk}, follow=True)
    assert "党员陈满已联系 1 户，达到可联系户数上限（1 户）" in response.content.decode()
    assert not LiaisonLink.objects.filter(household=extra).exists()


def test_services_refuse_exempt_members_and_other_branches(world):
    with pytest.raises(Exception, match="不能联系户"):
        services.link_create(member=world.member_a_exempt, household=world.household_a2, actor=None)
    with pytest.raises(Exception, match="同一支部"):
        services.link_create(member=world.member_b, household=world.household_a2, actor=None)


def test_database_refuses_a_second_active_link_for_a_household(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        LiaisonLink.objects.create(member=world.member_a, household=world.household_a, started_on=dt.date(2026, 2, 1))


def test_reinstated_member_can_link_again(world, client_for):
    client = client_for(world.secretary_a)
    assert client.post(reverse("members:member_reinstate", args=[world.member_a_exempt.pk])).status_code == 302
    world.member_a_exempt.refresh_from_db()
    assert world.member_a_exempt.status == MemberStatus.ACTIVE and world.member_a_exempt.exempt_reason == ""
    services.link_create(member=world.member_a_exempt, household=world.household_a2, actor=world.secretary_a)


def test_member_search_by_pinyin_initials(world, client_for):
    body = client_for(world.office_admin).get(reverse("members:member_list"), {"q": "ljg"}).content.decode()
    assert "李建国" in body and "张福来" not in body


def test_capacity_cannot_drop_below_current_load(world, client_for):
    client = client_for(world.secretary_a)
    make_link = services.link_create
    make_link(member=world.member_a, household=world.household_a2, actor=world.secretary_a)
    response = client.post(reverse("members:member_edit", args=[world.member_a.pk]), {
        "branch": world.branch_a.pk, "name": "李建国", "gender": "M", "capacity": 1, "phone": "", "id_number": ""})
    assert "不能少于当前已联系的户数" in response.content.decode()


def test_a_joining_date_before_the_birth_date_is_refused_and_the_input_kept(world, client_for):
    response = client_for(world.secretary_a).post(reverse("members:member_edit", args=[world.member_a.pk]), {
        "branch": world.branch_a.pk, "name": "李建国", "gender": "M", "capacity": 10, "phone": "", "id_number": "",
        "birth_date": "1970-05-05", "joined_party_on": "1968-07-01"})
    page = response.content.decode()
    assert "入党日期（1968-07-01）早于出生日期" in page and 'value="1968-07-01"' in page
    world.member_a.refresh_from_db()
    assert world.member_a.joined_party_on is None


def test_member_search_by_id_number_is_posted_and_audited(world, client_for):
    from lianhu.audit.models import AuditEntry
    from lianhu.common.testing import valid_id_number

    number = valid_id_number("19700101")
    world.member_a.set_id_number(number)
    world.member_a.save()
    client = client_for(world.secretary_a)
    body = client.post(reverse("members:member_list"), {"q": number.lower()}).content.decode()
    assert "李建国" in body and "张福来" not in body
    entry = AuditEntry.objects.get(action="lookup")
    assert number not in str(entry.detail) and entry.office_id == world.office.pk
    assert "李建国" not in client_for(world.secretary_b).post(reverse("members:member_list"), {"q": number}).content.decode()


def test_a_member_who_left_loses_his_access(world, client_for):
    services.member_mark_left(member=world.member_a, on=dt.date(2026, 11, 1), actor=world.secretary_a)
    client = client_for(world.member_user)
    assert client.get(reverse("org:household_detail", args=[world.household_a.pk])).status_code == 404
    assert client.get(reverse("org:branch_detail", args=[world.branch_a.pk])).status_code == 404


def test_a_member_sees_only_the_links_he_holds_now(world, client_for):
    services.link_create(member=world.member_a, household=world.household_a2, actor=world.secretary_a)
    other = make_member(world.branch_a, "周新民")
    services.link_create(member=other, household=world.household_a2, actor=world.secretary_a)
    from lianhu.members.models import LiaisonLink

    visible = set(LiaisonLink.objects.visible_to(world.member_user).values_list("household_id", flat=True))
    assert visible == {world.household_a.pk}


def test_exemption_date_in_the_future_is_refused_by_the_service(world):
    with pytest.raises(Exception, match="认定日期不能晚于今天"):
        services.member_mark_exempt(member=world.member_a, reason="病", since=dt.date(2099, 1, 1), approved_by="王",
                                    actor=world.secretary_a)
    assert LiaisonLink.objects.get(pk=world.link_a.pk).ended_on is None


@pytest.mark.parametrize("persona", ["member_user", "grid_worker_a", "advisor_b", "zone_admin"])
def test_the_needs_member_list_is_404_to_those_who_do_not_manage_members(world, client_for, persona):
    assert client_for(getattr(world, persona)).get(reverse("members:needs_member")).status_code == 404


def test_needs_member_list_query_count_does_not_grow_with_branches(world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lianhu.org.tests.factories import make_branch, make_grid

    client = client_for(world.office_admin)
    url = reverse("members:needs_member")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(4):
        b = make_branch(world.office)
        make_member(b)
        make_household(make_grid(b))
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert body.count("安排联系</button>") == 5
    assert len(many) == len(few)


def test_bulk_assignment_checks_capacity_on_the_final_state_and_writes_nothing_when_refused(world):
    from lianhu.audit.models import AuditEntry

    small = make_member(world.branch_a, "陈满", capacity=1)
    extra = make_household(world.grid_a)
    before = (LiaisonLink.objects.count(), AuditEntry.objects.count())
    with pytest.raises(Exception, match="超过可联系户数上限"):
        services.links_assign_bulk(assignments={world.household_a2.pk: small.pk, extra.pk: small.pk},
                                   actor=world.secretary_a)
    assert (LiaisonLink.objects.count(), AuditEntry.objects.count()) == before
    with pytest.raises(Exception, match="不能联系户"):
        services.links_assign_bulk(assignments={extra.pk: world.member_a_exempt.pk}, actor=world.secretary_a)
    with pytest.raises(Exception, match="不属于同一支部"):
        services.links_assign_bulk(assignments={extra.pk: world.member_b.pk}, actor=world.secretary_a)


def test_bulk_assignment_swaps_two_full_members_and_audits_every_link(world):
    from lianhu.audit.models import AuditEntry

    a = make_member(world.branch_a, "甲", capacity=1)
    b = make_member(world.branch_a, "乙", capacity=1)
    h1, h2 = world.household_a2, make_household(world.grid_a)
    services.links_assign_bulk(assignments={h1.pk: a.pk, h2.pk: b.pk}, actor=world.secretary_a)
    n = services.links_assign_bulk(assignments={h1.pk: b.pk, h2.pk: a.pk}, actor=world.secretary_a,
                                   office_id=world.office.pk)
    assert n == 2
    assert dict(LiaisonLink.objects.active().filter(household__in=[h1, h2]).values_list("household_id", "member_id")) == {
        h1.pk: b.pk, h2.pk: a.pk}
    assert LiaisonLink.objects.filter(household__in=[h1, h2], ended_on__isnull=False).count() == 2
    assert AuditEntry.objects.filter(action="link", office_id=world.office.pk).count() == 2
    assert AuditEntry.objects.filter(action="unlink", office_id=world.office.pk).count() == 2


def test_a_birth_date_under_eighteen_is_refused_on_the_form_and_the_input_kept(world, client_for):
    response = client_for(world.secretary_a).post(reverse("members:member_edit", args=[world.member_a.pk]), {
        "branch": world.branch_a.pk, "name": "李建国", "gender": "M", "capacity": 10, "phone": "", "id_number": "",
        "birth_date": "2015-05-05"})
    page = response.content.decode()
    assert "未满 18 周岁，不能登记为党员，请核对出生日期" in page and 'value="2015-05-05"' in page
    world.member_a.refresh_from_db()
    assert world.member_a.birth_date != dt.date(2015, 5, 5)


def test_a_child_is_refused_by_his_id_number_when_no_birth_date_is_typed(world, client_for):
    from lianhu.common.testing import valid_id_number

    child = valid_id_number("20150505", serial=71)
    response = client_for(world.secretary_a).post(reverse("members:member_create"), {
        "branch": world.branch_a.pk, "name": "周小宝", "gender": "M", "capacity": 10, "phone": "", "id_number": child})
    assert "未满 18 周岁，不能登记为党员，请核对出生日期" in response.content.decode()
    assert not PartyMember.objects.filter(name="周小宝").exists()
