"""Sessions end after 30 idle minutes for roles that may reveal personal data, later for the others."""

import time

import pytest
from django.urls import reverse

from lianhu.accounts.middleware import IDLE_MESSAGE, LAST_SEEN
from lianhu.common.testing import PASSWORD, api_call

pytestmark = pytest.mark.django_db


def idle_for(client, seconds: int) -> None:
    """As if the last request that stamped the session came `seconds` ago."""
    session = client.session
    session[LAST_SEEN] = int(time.time()) - seconds
    session.save()


def logged_in(client, user):
    client.force_login(user)
    assert client.get(reverse("org:branch_list")).status_code == 200  # the first request stamps the session
    return client


def is_logged_in(client) -> bool:
    return client.get(reverse("org:branch_list")).status_code == 200


@pytest.mark.parametrize("persona", ["office_admin", "office_staff", "secretary_a", "grid_worker_a"])
def test_a_role_that_may_reveal_is_logged_out_after_30_idle_minutes_and_told_why(world, client, persona):
    logged_in(client, getattr(world, persona))
    idle_for(client, 31 * 60)

    response = client.get(reverse("org:household_detail", args=[world.household_a.pk]), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert IDLE_MESSAGE in response.content.decode()
    assert not is_logged_in(client)


@pytest.mark.parametrize("persona", ["office_admin", "secretary_a", "member_user", "advisor_b"])
def test_29_idle_minutes_end_no_session(world, client, persona):
    logged_in(client, getattr(world, persona))
    idle_for(client, 29 * 60)
    assert is_logged_in(client)


@pytest.mark.parametrize("persona", ["member_user", "advisor_b", "zone_admin"])
def test_members_advisors_and_the_zone_may_stay_idle_two_hours(world, client, persona):
    logged_in(client, getattr(world, persona))
    idle_for(client, 119 * 60)
    assert is_logged_in(client)
    idle_for(client, 121 * 60)
    assert not is_logged_in(client)


def test_the_limits_come_from_the_settings(world, client, settings):
    settings.SESSION_IDLE_MINUTES, settings.SESSION_IDLE_MINUTES_READONLY = 5, 10
    logged_in(client, world.secretary_a)
    idle_for(client, 6 * 60)
    assert not is_logged_in(client)
    logged_in(client, world.member_user)
    idle_for(client, 6 * 60)
    assert is_logged_in(client)
    idle_for(client, 11 * 60)
    assert not is_logged_in(client)


def test_the_activity_stamp_is_written_at_most_once_a_minute(world, client):
    logged_in(client, world.secretary_a)
    idle_for(client, 30)
    stamped = client.session[LAST_SEEN]

    assert is_logged_in(client)
    assert client.session[LAST_SEEN] == stamped  # not saved again within the minute

    idle_for(client, 90)
    assert is_logged_in(client)
    assert abs(client.session[LAST_SEEN] - time.time()) < 5


def test_activity_keeps_a_session_no_longer_than_12_hours(world, client, settings):
    logged_in(client, world.secretary_a)
    expires = client.session.get_expiry_date()
    assert abs(client.session.get_expiry_age() - settings.SESSION_COOKIE_AGE) < 5

    for _ in range(3):
        idle_for(client, 90)  # each request now stamps the session, and so saves it
        assert is_logged_in(client)
        assert client.session.get_expiry_date() == expires


def test_an_idle_api_session_answers_401_and_a_token_knows_no_idle_time(world, client):
    from lianhu.accounts.models import ApiToken

    logged_in(client, world.secretary_a)
    idle_for(client, 31 * 60)
    response = api_call(client, "get", "/households")
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录，或接口令牌无效、已吊销"

    _token, key = ApiToken.issue(user=world.secretary_a, name="脚本")
    client.logout()
    response = client.get("/api/v1/households", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_an_idle_htmx_request_loads_the_login_page_whole_instead_of_swapping_it_in(world, client):
    logged_in(client, world.secretary_a)
    idle_for(client, 31 * 60)
    page = reverse("org:household_detail", args=[world.household_a.pk])

    response = client.post(reverse("org:reveal", args=["resident", world.resident_a.pk, "phone"]),
                            headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"})

    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"{reverse('accounts:login')}?next={page.replace('/', '%2F')}"
    assert IDLE_MESSAGE in client.get(response["HX-Redirect"]).content.decode()


def test_logging_in_starts_both_clocks(world, client, settings):
    client.post(reverse("accounts:login"), {"username": world.secretary_a.username, "password": PASSWORD})
    assert abs(client.session[LAST_SEEN] - time.time()) < 5
    assert abs(client.session.get_expiry_age() - settings.SESSION_COOKIE_AGE) < 5


def test_a_session_from_before_the_clocks_gets_them_at_its_next_request(world, client):
    client.force_login(world.secretary_a)
    session = client.session
    del session[LAST_SEEN]
    session.set_expiry(None)
    session.save()

    assert is_logged_in(client)
    assert abs(client.session[LAST_SEEN] - time.time()) < 5
    expires = client.session.get_expiry_date()
    idle_for(client, 90)
    assert is_logged_in(client)
    assert client.session.get_expiry_date() == expires
