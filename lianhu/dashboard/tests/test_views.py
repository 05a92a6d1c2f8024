import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.tests.factories import make_branch, make_grid, make_household
from lianhu.members import services

pytestmark = pytest.mark.django_db


def test_office_overview_says_the_seed_sentence_with_live_figures(world, client_for):
    body = client_for(world.office_admin).get(reverse("dashboard:office_overview", args=[world.office.pk])).content.decode()
    assert "参与“党员联系户”的村（社区）支部共2个，共有2名党员参与联系服务群众2户，因老、弱、病、残等丧失联户能力的党员1名" in body


def test_branch_with_unlinked_households_is_highlighted_first(world, client_for):
    body = client_for(world.office_admin).get(reverse("dashboard:office_overview", args=[world.office.pk])).content.decode()
    table = body[body.index('id="branch-table"'):]
    assert table.index("甲村") < table.index("乙社区")
    assert '<tr class="lagging">' in table and "1 户无人联系" in table


def test_overview_figures_follow_an_exemption(world, client_for):
    services.member_mark_exempt(member=world.member_a, reason="残", since=dt.date(2026, 10, 1), approved_by="王",
                                actor=world.office_admin)
    body = client_for(world.office_admin).get(reverse("dashboard:office_overview", args=[world.office.pk])).content.decode()
    assert "共有1名党员参与联系服务群众1户，因老、弱、病、残等丧失联户能力的党员2名" in body


def test_overview_query_count_does_not_grow_with_branches(world, client_for):
    client = client_for(world.office_admin)
    url = reverse("dashboard:office_overview", args=[world.office.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(5):
        b = make_branch(world.office)
        g = make_grid(b)
        m = make_member(b)
        make_link(m, make_household(g))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_my_households_lists_the_members_households_with_tags_and_last_visit(world, client_for):
    response = client_for(world.member_user).get(reverse("dashboard:my_households"))
    body = response.content.decode()
    assert world.household_a.address in body and "独居老人" in body and "从未走访" in body
    assert world.household_a2.address not in body and "低保" not in body


def test_my_households_query_count_does_not_grow_with_households(world, client_for):
    client = client_for(world.member_user)
    url = reverse("dashboard:my_households")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        make_link(world.member_a, make_household(world.grid_a))
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('<li>') >= 6
    assert len(many) == len(few)


@pytest.mark.parametrize("persona,target", [
    ("office_admin", "dashboard:office_overview"), ("zone_admin", "dashboard:zone_overview"),
    ("secretary_a", "org:branch_detail"), ("grid_worker_a", "org:grid_detail"), ("member_user", "dashboard:my_households"),
    ("advisor_b", "org:branch_list"),
])
def test_home_sends_each_role_to_its_page(world, client_for, persona, target):
    response = client_for(getattr(world, persona)).get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"].split("?")[0].rstrip("/").startswith(reverse(target, kwargs=(
        {"pk": {"office_admin": world.office.pk, "secretary_a": world.branch_a.pk, "grid_worker_a": world.grid_a.pk}[persona]}
        if target in ("dashboard:office_overview", "org:branch_detail", "org:grid_detail") else None)).rstrip("/"))


def test_zone_overview_lists_the_offices_of_the_zone(world, client_for):
    body = client_for(world.zone_admin).get(reverse("dashboard:zone_overview")).content.decode()
    assert "甲办事处" in body and "乙办事处" in body


def test_login_page_is_chinese_and_a_wrong_password_is_logged_without_it(world, client):
    from lianhu.audit.models import AuditEntry

    response = client.post(reverse("accounts:login"), {"username": "secretary_a", "password": "wrong-password"})
    assert "登录" in response.content.decode()
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.detail == {"username": "secretary_a"}


def test_my_households_shows_each_special_group_once_per_household(world, client_for):
    from lianhu.org.tests.factories import make_resident

    make_resident(world.household_a, "单大海", gender="M", relation="配偶", care_tags=["独居老人"])
    body = client_for(world.member_user).get(reverse("dashboard:my_households")).content.decode()
    assert body.count('<span class="tag">独居老人</span>') == 1
    assert "户主 单雪梅" in body


def test_five_wrong_passwords_lock_the_account_on_that_address_for_a_while(world, client):
    from lianhu.common.testing import PASSWORD

    url = reverse("accounts:login")
    for _ in range(5):
        client.post(url, {"username": "secretary_a", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    locked = client.post(url, {"username": "secretary_a", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert locked.status_code == 429 and "暂时无法登录" in locked.content.decode()
    elsewhere = client.post(url, {"username": "secretary_a", "password": PASSWORD}, REMOTE_ADDR="10.8.8.8")
    assert elsewhere.status_code == 302
