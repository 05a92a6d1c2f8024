"""Changing one's own password, and the change forced at first login and when the password is old."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lianhu.accounts.models import ApiToken
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Xin#mima2026"
CHANGE = reverse("accounts:password_change")


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_a_user_changes_his_own_password_stays_logged_in_and_it_is_audited(world, client_for):
    client = client_for(world.secretary_a)
    page = client.get(CHANGE)
    assert page.status_code == 200 and "修改密码" in page.content.decode()

    response = change(client)

    assert response.status_code == 302
    world.secretary_a.refresh_from_db()
    assert world.secretary_a.check_password(NEW)
    assert client.get(reverse("org:branch_detail", args=[world.branch_a.pk])).status_code == 200  # still logged in
    entry = AuditEntry.objects.get(action="password_change")
    assert (entry.actor, entry.office_id, entry.action_label) == (world.secretary_a, world.office.pk, "修改密码")
    assert NEW not in str(entry.detail) and PASSWORD not in str(entry.detail)


def test_the_change_needs_the_old_password_and_a_new_one_meeting_the_policy(world, client_for):
    client = client_for(world.secretary_a)
    assert "原密码不正确" in change(client, old="wrong").content.decode()
    assert "密码不能包含用户名" in change(client, new="Secretary_a#1").content.decode()
    assert "两次输入的新密码不一致" in change(client, again="Xin#mima2027").content.decode()
    assert "新密码不能与原密码相同" in change(client, new=PASSWORD).content.decode()
    world.secretary_a.refresh_from_db()
    assert world.secretary_a.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="password_change").exists()


def test_the_user_menu_links_to_the_change_page_next_to_the_tokens(world, client_for):
    body = client_for(world.member_user).get(reverse("dashboard:my_households")).content.decode()
    assert f'href="{CHANGE}"' in body and f'href="{reverse("accounts:tokens")}"' in body


def test_the_change_page_needs_login(client):
    response = client.get(CHANGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# ---- the forced change ----------------------------------------------------------------------------

def test_a_user_flagged_must_change_is_sent_to_the_change_page_until_he_does(world, client_for):
    world.secretary_a.must_change_password = True
    world.secretary_a.save()
    client = client_for(world.secretary_a)

    response = client.get(reverse("org:branch_detail", args=[world.branch_a.pk]))
    assert response.status_code == 302 and response["Location"] == CHANGE
    assert client.get(CHANGE).status_code == 200
    assert "请先修改密码" in client.get(CHANGE).content.decode()

    change(client)
    world.secretary_a.refresh_from_db()
    assert not world.secretary_a.must_change_password
    assert client.get(reverse("org:branch_detail", args=[world.branch_a.pk])).status_code == 200


def test_an_htmx_request_is_sent_to_the_change_page_by_htmx(world, client_for):
    world.secretary_a.must_change_password = True
    world.secretary_a.save()
    response = client_for(world.secretary_a).get(reverse("org:branch_detail", args=[world.branch_a.pk]),
                                                 HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == CHANGE


def test_logout_and_static_files_are_not_redirected(world, client_for):
    world.secretary_a.must_change_password = True
    world.secretary_a.save()
    client = client_for(world.secretary_a)
    assert client.get("/static/css/app.css").status_code != 302
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")


def test_an_api_token_is_not_redirected_but_the_session_is(world, client_for):
    world.office_admin.must_change_password = True
    world.office_admin.save()
    _, key = ApiToken.issue(user=world.office_admin, name="对接")
    client = client_for(world.office_admin)
    assert client.get("/api/v1/households", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # The session alone, or with a Bearer header that is no token, answers the API's JSON 403.
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}):
        response = client.get("/api/v1/households", **headers)
        assert response.status_code == 403 and response.json() == {"detail": "请先在网页上修改密码后再访问"}


@pytest.mark.parametrize("age_days,max_age,redirected", [(89, 90, False), (91, 90, True), (400, 0, False),
                                                         (31, 30, True)])
def test_a_password_older_than_the_maximum_age_must_be_changed(world, client_for, settings, age_days, max_age,
                                                               redirected):
    settings.LIANHU_PASSWORD_MAX_AGE_DAYS = max_age
    world.secretary_a.password_changed_at = timezone.now() - dt.timedelta(days=age_days)
    world.secretary_a.save()
    response = client_for(world.secretary_a).get(reverse("org:branch_detail", args=[world.branch_a.pk]))
    assert (response.status_code == 302 and response["Location"] == CHANGE) is redirected


def test_setting_a_password_records_when(world):
    user = world.secretary_a
    user.password_changed_at = timezone.now() - dt.timedelta(days=400)
    user.set_password(NEW)
    assert timezone.now() - user.password_changed_at < dt.timedelta(minutes=1)


def test_rehashing_a_password_at_login_is_not_a_change(world, settings):
    from django.contrib.auth.hashers import make_password

    user = world.secretary_a
    user.password = make_password(PASSWORD, hasher="md5")
    user.password_changed_at = long_ago = timezone.now() - dt.timedelta(days=80)
    user.save()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert user.check_password(PASSWORD)
    user.save()  # a later save of the same object must not restart the age either
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_") and user.password_changed_at == long_ago


def test_a_demo_account_is_never_forced_and_cannot_change_the_shared_password(world, client_for, settings):
    settings.LIANHU_DEMO_MODE = True
    user = world.office_admin
    user.is_demo, user.must_change_password = True, True
    user.password_changed_at = timezone.now() - dt.timedelta(days=400)
    user.save()
    client = client_for(user)
    assert client.get(reverse("dashboard:office_overview", args=[world.office.pk])).status_code == 200
    assert "演示账号" in client.get(CHANGE).content.decode()
    assert change(client).status_code == 404
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_admin_flags_a_user_it_creates(world, rf):
    from django.contrib.admin.sites import site

    from lianhu.accounts.admin import LianhuUserAdmin
    from lianhu.accounts.models import User

    admin = LianhuUserAdmin(User, site)
    request = rf.post("/")
    request.user = world.office_admin
    user = User(username="new_secretary")
    user.set_password(NEW)
    admin.save_model(request, user, form=None, change=False)
    assert User.objects.get(username="new_secretary").must_change_password
