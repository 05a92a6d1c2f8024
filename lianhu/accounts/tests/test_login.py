"""Logging in and out: audited where the user's office sees it, locked out 30 minutes, demo accounts only in demo mode."""

import datetime as dt

import pytest
from django.urls import reverse

from lianhu.accounts.models import ApiToken, Role
from lianhu.accounts.tests.factories import make_user
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_logins_and_failed_logins_show_on_the_audit_page_of_the_users_office(world, client, client_for):
    for _ in range(3):
        assert log_in(client, "secretary_a", REMOTE_ADDR="10.0.0.7").status_code == 302
        client.logout()
    log_in(client, "secretary_a", "wrong", REMOTE_ADDR="10.0.0.8")

    assert AuditEntry.objects.filter(action="login", office=world.office).count() == 3
    failed = AuditEntry.objects.get(action="login_failed")
    assert (failed.office_id, failed.detail) == (world.office.pk, {"username": "secretary_a"})
    page = client_for(world.audit_admin).get(reverse("audit:audit_list"), {"action": "login"})
    assert page.context["page"].paginator.count == 3
    failed_page = client_for(world.audit_admin).get(reverse("audit:audit_list"), {"action": "login_failed"})
    assert "10.0.0.8" in failed_page.content.decode() and "<td>secretary_a</td>" in failed_page.content.decode()
    other_auditor = make_user("other_audit_admin", Role.AUDIT_ADMIN, office=world.other_office)
    assert client_for(other_auditor).get(reverse("audit:audit_list")).context["page"].paginator.count == 0


def test_a_failed_login_of_an_unknown_name_belongs_to_no_office_nor_zone(world, client):
    log_in(client, "nobody", "wrong")
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.office_id, entry.zone_id) == (None, None)


def test_logging_out_is_audited(world, client):
    log_in(client, "member_a")
    response = client.post(reverse("accounts:logout"), REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="logout")
    assert (entry.actor, entry.office_id, entry.ip, entry.action_label) == (world.member_user, world.office.pk,
                                                                             "10.0.0.9", "退出登录")


def _lock(client):
    from axes.models import AccessAttempt

    for _ in range(5):
        log_in(client, "secretary_a", "wrong", REMOTE_ADDR="10.9.9.9")
    return AccessAttempt.objects.filter(username="secretary_a")


@pytest.mark.parametrize("minutes_ago,locked", [(29, True), (31, False)])
def test_five_failures_lock_the_account_on_that_address_for_30_minutes(world, client, minutes_ago, locked):
    from django.utils import timezone

    attempts = _lock(client)
    attempts.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes_ago))
    response = log_in(client, "secretary_a", REMOTE_ADDR="10.9.9.9")
    assert (response.status_code == 429) is locked
    if locked:
        assert "30 分钟" in response.content.decode()


def test_a_demo_account_is_refused_unless_the_demo_mode_is_on(world, client, settings):
    user = world.office_admin
    user.is_demo = True
    user.save()
    settings.LIANHU_DEMO_MODE = False
    response = log_in(client, "office_admin")
    assert response.status_code == 200 and "演示账号" in response.content.decode()
    assert AuditEntry.objects.filter(action="login_failed").exists()

    settings.LIANHU_DEMO_MODE = True
    assert log_in(client, "office_admin").status_code == 302


def test_a_demo_accounts_session_and_tokens_stop_when_the_demo_mode_is_off(world, client, settings):
    user = world.office_admin
    user.is_demo = True
    user.save()
    _, key = ApiToken.issue(user=user, name="演示")
    settings.LIANHU_DEMO_MODE = True
    log_in(client, "office_admin")
    overview = reverse("dashboard:office_overview", args=[world.office.pk])
    assert client.get(overview).status_code == 200

    settings.LIANHU_DEMO_MODE = False
    assert client.get(overview).status_code == 302
    assert client.get("/api/v1/households", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
