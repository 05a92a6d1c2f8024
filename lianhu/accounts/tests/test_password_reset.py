"""A secretary resets the password of a member or grid worker of his branch, the office of its own people."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse

from lianhu.accounts.models import Membership, Role
from lianhu.accounts.tests.factories import make_user
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PASSWORD

pytestmark = pytest.mark.django_db

USERS = reverse("accounts:user_list")


def reset_url(user) -> str:
    return reverse("accounts:password_reset", args=[user.pk])


def temporary_password(response) -> str:
    return re.search(r'<code id="temporary-password">([^<]+)</code>', response.content.decode()).group(1)


@pytest.mark.parametrize("persona", ["secretary_a", "office_admin", "office_staff"])
def test_the_secretary_or_the_office_resets_a_members_password_shown_once_and_audited(world, client, persona):
    client.force_login(getattr(world, persona))
    page = client.get(reset_url(world.member_user))
    assert page.status_code == 200 and "重置密码" in page.content.decode()

    response = client.post(reset_url(world.member_user), REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = temporary_password(response)
    member = world.member_user
    member.refresh_from_db()
    assert member.check_password(password) and member.must_change_password
    validate_password(password, member)  # the temporary password meets the policy too
    entry = AuditEntry.objects.get(action="password_reset")
    assert (entry.actor, entry.object_id, entry.office_id, entry.ip) == (
        getattr(world, persona), str(member.pk), world.office.pk, "10.1.2.3")
    assert password not in str(entry.detail)
    assert password not in client.get(reset_url(world.member_user)).content.decode()  # shown once


def test_the_member_logs_in_with_the_temporary_password_and_must_change_it(world, client_for, client):
    response = client_for(world.secretary_a).post(reset_url(world.member_user))
    password = temporary_password(response)
    client.logout()

    login = client.post(reverse("accounts:login"), {"username": "member_a", "password": password})
    assert login.status_code == 302
    home = client.get(reverse("dashboard:my_households"))
    assert home.status_code == 302 and home["Location"] == reverse("accounts:password_change")


def test_a_reset_ends_the_members_lockout(world, client_for, client):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "member_a", "password": "wrong"})
    password = temporary_password(client_for(world.secretary_a).post(reset_url(world.member_user)))
    client.logout()
    assert client.post(reverse("accounts:login"), {"username": "member_a", "password": password}).status_code == 302


def test_a_secretary_resets_a_grid_worker_of_his_branch(world, client_for):
    assert client_for(world.secretary_a).post(reset_url(world.grid_worker_a)).status_code == 200


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "advisor_b", "zone_admin", "member_user",
                                     "grid_worker_a"])
def test_anyone_else_gets_404_and_changes_nothing(world, client_for, persona):
    client = client_for(getattr(world, persona))
    assert client.get(reset_url(world.member_user)).status_code == 404
    assert client.post(reset_url(world.member_user)).status_code == 404
    world.member_user.refresh_from_db()
    assert world.member_user.check_password(PASSWORD) and not world.member_user.must_change_password
    assert not AuditEntry.objects.filter(action="password_reset").exists()


@pytest.mark.parametrize("target", ["secretary_a", "secretary_b", "office_staff", "office_admin", "advisor_b"])
def test_nobody_resets_a_secretary_or_the_office_here(world, client_for, target):
    assert client_for(world.office_admin).post(reset_url(getattr(world, target))).status_code == 404


def test_a_member_who_also_holds_a_role_out_of_reach_is_404(world, client_for):
    Membership.objects.create(user=world.member_user, role=Role.OFFICE_ADMIN, office=world.other_office)
    assert client_for(world.secretary_a).post(reset_url(world.member_user)).status_code == 404


def test_a_superuser_or_a_demo_account_is_never_reset_here(world, client_for):
    boss = make_user("boss", Role.MEMBER, member=world.member_a)
    boss.is_superuser = True
    boss.save()
    demo = make_user("demo_member", Role.MEMBER, member=world.member_a)
    demo.is_demo = True
    demo.save()
    client = client_for(world.secretary_a)
    assert client.post(reset_url(boss)).status_code == 404
    assert client.post(reset_url(demo)).status_code == 404


def test_the_user_list_shows_whom_one_may_reset(world, client_for):
    body = client_for(world.secretary_a).get(USERS).content.decode()
    assert reset_url(world.member_user) in body and reset_url(world.grid_worker_a) in body
    assert reset_url(world.secretary_b) not in body and reset_url(world.office_admin) not in body
    other = client_for(world.secretary_b).get(USERS).content.decode()
    assert reset_url(world.member_user) not in other


def test_the_user_list_is_in_the_navigation_of_those_who_may_reset(world, client_for):
    assert f'href="{USERS}"' in client_for(world.secretary_a).get(USERS).content.decode()
    assert client_for(world.member_user).get(USERS).status_code == 404
    assert f'href="{USERS}"' not in client_for(world.member_user).get(reverse("dashboard:my_households")).content.decode()
