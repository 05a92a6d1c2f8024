"""The second factor (TOTP, django-otp) of the zone and office roles: asked after the password before
anything else, bound by scanning a QR code, backed by recovery codes used once, locked after wrong codes,
reset by the role above, every step audited; not asked of the other roles, nor of the demo accounts in the
demo mode.

These tests log in through the login page, as a person does: the `client` fixture's force_login would
complete the second factor for them.
"""

import datetime as dt
import re
import time
from base64 import b32decode
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lianhu.accounts.models import ApiToken, User
from lianhu.accounts.services import _new_recovery_codes
from lianhu.accounts.tests.factories import device_code, make_totp_device, make_user, totp_code
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:second_factor")
ENROL = reverse("accounts:second_factor_enrol")
CODES = reverse("accounts:recovery_codes")
ADMINS = ["zone_admin", "office_admin", "office_staff", "audit_admin"]
NOT_ASKED = ["secretary_a", "member_user", "grid_worker_a", "advisor_b"]


def log_in(user, **extra) -> Client:
    """A client logged in with the password only, through the login page."""
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, **extra)
    assert response.status_code == 302, "the password was refused"
    return client


def wrong_code(key: bytes) -> str:
    """A 6-digit code the authenticator does not show in these minutes (django-otp accepts a step either side)."""
    now_t = int(time.time()) // 30
    taken = {f"{hotp(key, t, digits=6):06d}" for t in range(now_t - 2, now_t + 4)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555", "666666", "777777")
                if code not in taken)


def verify(client, code, **extra):
    return client.post(VERIFY, {"code": code}, **extra)


def pages(world) -> list[str]:
    """Pages of every kind: the home page, lists, a detail, the password and token pages, the audit log."""
    return [
        reverse("dashboard:home"),
        reverse("dashboard:office_overview", args=[world.office.pk]),
        reverse("org:household_list"),
        reverse("org:household_detail", args=[world.household_a.pk]),
        reverse("members:member_list"),
        reverse("accounts:password_change"),
        reverse("accounts:tokens"),
        reverse("audit:audit_list"),
        CODES,
    ]


def entries(user, action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(actor=user, action=action))


# ---- who is asked, and what an unverified session gets ---------------------------------------------


@pytest.mark.parametrize("persona", ADMINS)
@pytest.mark.parametrize("bound", [False, True])
def test_a_password_alone_opens_nothing_for_the_zone_and_office_roles(world, persona, bound):
    user = getattr(world, persona)
    if bound:
        make_totp_device(user)
    client = log_in(user)
    for page in pages(world):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), page
        asked = client.get(response["Location"], follow=True)
        if bound:
            assert not asked.redirect_chain and "输入“联户”下当前显示的 6 位数字" in asked.content.decode()
        else:
            assert asked.redirect_chain[-1][0].startswith(ENROL) and "扫码绑定" in asked.content.decode()
    assert client.post(reverse("accounts:tokens"), {"name": "对接"}).status_code == 302
    assert not ApiToken.objects.exists()
    htmx = client.get(reverse("org:household_list"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == VERIFY

    for method, url in [("get", "/api/v1/households"), ("get", f"/api/v1/households/{world.household_a.pk}"),
                        ("post", "/api/v1/residents/search")]:
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert response.json() == {"detail": "请先完成双因素认证：在网页上输入手机验证器的 6 位动态验证码后再访问"}
    # A Bearer header that is no token does not open the session either (the middleware lets Bearer pass).
    response = client.get("/api/v1/households", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 403 and "双因素认证" in response.json()["detail"]


@pytest.mark.parametrize("persona", NOT_ASKED)
def test_secretaries_members_grid_workers_and_advisors_are_not_asked(world, persona):
    user = getattr(world, persona)
    assert not user.second_factor_required
    client = log_in(user)
    assert client.get(reverse("dashboard:home"), follow=True).status_code == 200
    assert client.get("/api/v1/households").status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("dashboard:home")
    assert client.get(ENROL).status_code == 404


def test_a_superuser_is_asked_too(world):
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert root.second_factor_required
    assert log_in(root).get(reverse("dashboard:home"))["Location"].startswith(VERIFY)


def test_the_demo_administrators_are_not_asked_in_the_demo_mode_only(world, settings):
    user = world.office_admin
    user.is_demo = True
    user.save()
    settings.LIANHU_DEMO_MODE = True
    assert not User.objects.get(pk=user.pk).second_factor_required
    assert log_in(user).get(reverse("dashboard:office_overview", args=[world.office.pk])).status_code == 200

    settings.LIANHU_DEMO_MODE = False  # then the account cannot log in at all, and would be asked
    assert User.objects.get(pk=user.pk).second_factor_required


def test_an_api_token_is_not_asked_for_a_code(world):
    """A token is a credential of its own (an integration types no code), issued from a verified session."""
    _, key = ApiToken.issue(user=world.office_admin, name="区级平台对接")
    response = Client().get("/api/v1/households", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200


# ---- binding an authenticator, and logging in with it --------------------------------------------------


def test_an_office_clerk_binds_his_phone_sees_his_recovery_codes_once_and_logs_in_with_a_code(world):
    user = world.office_staff
    client = log_in(user, REMOTE_ADDR="10.3.3.3")
    page = client.get(reverse("org:household_list"), follow=True)
    assert page.redirect_chain[-1][0] == f"{ENROL}?next=%2Forg%2Fhouseholds%2F"
    html = page.content.decode()
    assert "扫码绑定" in html and 'src="data:image/svg+xml' in html
    assert page["Cache-Control"].count("no-store") == 1
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    key = b32decode(secret.replace(" ", ""))
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed and device.bin_key == key
    assert client.get(ENROL).content.decode().count(secret) == 1  # the same secret until it is confirmed

    wrong = client.post(ENROL, {"code": wrong_code(key), "next": "/org/households/"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert client.post(ENROL, {"code": "12ab"}).content.decode().count("验证码格式不对") == 1

    done = client.post(ENROL, {"code": totp_code(key), "next": "/org/households/"}, REMOTE_ADDR="10.3.3.3")
    assert done["Location"] == f"{CODES}?next=%2Forg%2Fhouseholds%2F"
    shown = client.get(done["Location"])
    codes = re.findall(r"<li>([a-z2-7]{4})-([a-z2-7]{4})</li>", shown.content.decode())
    assert len(codes) == 10 and 'href="/org/households/"' in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert not re.findall(r"<li>[a-z2-7]{4}-[a-z2-7]{4}</li>", client.get(CODES).content.decode())  # once
    assert client.get(reverse("org:household_list")).status_code == 200
    assert client.get("/api/v1/households").status_code == 200

    enrolled = AuditEntry.objects.get(action="otp_enrolled")
    assert (enrolled.actor, enrolled.office_id, enrolled.ip) == (user, world.office.pk, "10.3.3.3")
    assert entries(user, "otp_failed")[0].detail == {"kind": "enrol"}

    # The next login asks for the code his phone shows (it cannot bind another in the meantime).
    client.post(reverse("accounts:logout"))
    again = log_in(user)
    assert again.get(ENROL)["Location"] == VERIFY
    assert verify(again, wrong_code(key)).status_code == 200
    response = verify(again, device_code(device)[:3] + " " + device_code(device)[3:])  # as some apps show it
    assert response["Location"] == reverse("dashboard:home")
    assert again.get(reverse("org:household_list")).status_code == 200
    assert [e.action for e in AuditEntry.objects.filter(actor=user).order_by("at", "id")] == [
        "login", "otp_failed", "otp_enrolled", "logout", "login", "otp_failed", "otp_verified"]


def test_the_code_page_goes_on_to_the_page_first_asked_for_and_only_on_this_site(world):
    device = make_totp_device(world.office_admin)
    client = log_in(world.office_admin)
    asked = client.get(reverse("members:member_list"))
    assert asked["Location"] == f"{VERIFY}?next=%2Fmembers%2F"
    response = client.post(asked["Location"], {"code": device_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard:home")

    other = log_in(world.office_admin)
    response = other.post(VERIFY, {"code": device_code(device), "next": "/members/"})
    assert response["Location"] == "/members/"


def test_the_code_comes_before_a_forced_password_change(world):
    user = world.office_staff
    user.must_change_password = True
    user.save()
    device = make_totp_device(user)
    client = log_in(user)
    assert client.get(reverse("accounts:password_change"))["Location"].startswith(VERIFY)
    response = verify(client, device_code(device))
    assert client.get(response["Location"])["Location"] == reverse("accounts:password_change")


def test_a_new_account_binds_its_phone_sees_its_recovery_codes_then_sets_its_password(world):
    user = make_user("new_staff", "office_staff", office=world.office)
    user.must_change_password = True
    user.save()
    client = log_in(user)
    page = client.get(reverse("dashboard:home"), follow=True)
    assert page.redirect_chain[-1][0].startswith(ENROL)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    done = client.post(ENROL, {"code": totp_code(b32decode(secret.replace(" ", "")))})
    assert len(re.findall(r"<li>[a-z2-7]{4}-[a-z2-7]{4}</li>", client.get(done["Location"]).content.decode())) == 10
    assert client.get(reverse("dashboard:home"))["Location"] == reverse("accounts:password_change")


def test_a_code_is_accepted_once(world):
    device = make_totp_device(world.office_admin)
    code = device_code(device)
    assert verify(log_in(world.office_admin), code)["Location"] == reverse("dashboard:home")
    replay = verify(log_in(world.office_admin), code)
    assert replay.status_code == 200 and "验证码不正确" in replay.content.decode()


# ---- recovery codes --------------------------------------------------------------------------------------


def test_a_recovery_code_logs_in_once(world):
    user = world.zone_admin
    make_totp_device(user)
    codes = _new_recovery_codes(user)
    client = log_in(user)
    response = verify(client, codes[3][:4].upper() + "-" + codes[3][4:])  # as printed, whatever the case
    assert response["Location"] == reverse("dashboard:home")
    assert "还剩 9 个" in client.get(response["Location"], follow=True).content.decode()
    used = AuditEntry.objects.get(action="otp_recovery_used")
    assert (used.actor, used.detail) == (user, {"left": 9})

    again = log_in(user)
    refused = verify(again, codes[3])
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()
    assert entries(user, "otp_failed")[0].detail == {"kind": "recovery"}
    assert verify(again, codes[4])["Location"] == reverse("dashboard:home")


def test_a_user_makes_new_recovery_codes_after_typing_a_code_and_the_old_ones_stop(world, client):
    user = world.office_admin
    client.force_login(user)
    device = make_totp_device(user)
    old = _new_recovery_codes(user)
    page = client.get(CODES)
    assert "未用的恢复码</dt><dd>10 个" in page.content.decode()

    wrong = client.post(CODES, {"code": wrong_code(device.bin_key)})
    assert "验证码不正确" in wrong.content.decode()
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(old)

    response = client.post(CODES, {"code": device_code(device)})
    assert response["Location"] == CODES
    new = ["".join(c) for c in re.findall(r"<li>([a-z2-7]{4})-([a-z2-7]{4})</li>", client.get(CODES).content.decode())]
    assert len(new) == 10 and set(new) == set(StaticToken.objects.values_list("token", flat=True))
    assert not set(new) & set(old)
    assert len(entries(user, "otp_codes_renewed")) == 1
    assert "双因素认证" in verify(log_in(user), old[0]).content.decode()


# ---- wrong codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes_ago,locked", [(29, True), (31, False)])
def test_five_wrong_codes_stop_the_account_s_codes_for_30_minutes_from_any_address(world, minutes_ago, locked):
    user = world.office_staff
    device = make_totp_device(user)
    wrong = wrong_code(device.bin_key)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(minutes=minutes_ago)):
        client = log_in(user, REMOTE_ADDR="10.7.7.7")
        for n in range(5):
            response = verify(client, wrong, REMOTE_ADDR=f"10.7.7.{n}")
            assert "验证码不正确" in response.content.decode() and "连续输错 5 次将暂停验证 30 分钟" in response.content.decode()

    # A new login with the password (axes forgets its failures) and another address change nothing.
    response = verify(log_in(user, REMOTE_ADDR="10.8.8.8"), device_code(device), REMOTE_ADDR="10.8.8.8")
    if locked:
        assert response.status_code == 200 and "验证码错误次数过多，已暂停验证，请于" in response.content.decode()
        assert entries(user, "otp_locked") and not entries(user, "otp_verified")
        device.refresh_from_db()
        assert device.last_t == -1  # the code was not even looked at
    else:
        assert response["Location"] == reverse("dashboard:home")
    assert len(entries(user, "otp_failed")) == 5


def test_a_success_starts_the_count_of_wrong_codes_again(world, settings):
    settings.LIANHU_OTP_FAILURE_LIMIT = 2
    user = world.office_staff
    device = make_totp_device(user)
    wrong = wrong_code(device.bin_key)
    client = log_in(user)
    verify(client, wrong)
    assert verify(client, device_code(device))["Location"] == reverse("dashboard:home")
    client = log_in(user)
    verify(client, wrong)
    assert verify(client, device_code(device))["Location"] == reverse("dashboard:home")


# ---- resets -----------------------------------------------------------------------------------------------


def test_the_second_factor_list_shows_whom_one_may_reset(world, client):
    other_staff = make_user("other_staff", "office_staff", office=world.other_office)
    make_totp_device(world.office_staff)
    listed = {
        persona: {u.username for u in client_for_list(client, getattr(world, persona))}
        for persona in ("office_admin", "other_office_admin", "zone_admin")
    }
    assert listed == {"office_admin": {"office_staff"}, "other_office_admin": {"other_office_staff", "other_staff"},
                      "zone_admin": {"office_admin", "other_office_admin"}}
    assert other_staff.username not in listed["office_admin"]
    for persona in ("office_staff", "secretary_a", "member_user", "advisor_b"):
        client.force_login(getattr(world, persona))
        assert client.get(reverse("accounts:second_factor_users")).status_code == 404


def client_for_list(client, user):
    client.force_login(user)
    response = client.get(reverse("accounts:second_factor_users"))
    assert response.status_code == 200
    return response.context["page"]


def test_only_an_admin_above_him_in_scope_resets_a_second_factor(world, client):
    staff = world.office_staff
    device = make_totp_device(staff)
    _new_recovery_codes(staff)
    staffs_session = log_in(staff)
    assert verify(staffs_session, device_code(device)).status_code == 302
    assert staffs_session.get(reverse("org:household_list")).status_code == 200
    url = reverse("accounts:second_factor_reset", args=[staff.pk])

    for outsider in ("other_office_admin", "office_staff", "secretary_a", "zone_admin"):
        client.force_login(getattr(world, outsider))
        assert client.get(url).status_code == 404 and client.post(url).status_code == 404
    client.force_login(world.office_admin)  # nobody resets his own, with a code or without
    assert client.post(reverse("accounts:second_factor_reset", args=[world.office_admin.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=staff).exists()

    assert "已绑定" in client.get(url).content.decode()
    response = client.post(url, REMOTE_ADDR="10.4.4.4")
    assert response["Location"] == reverse("accounts:second_factor_users")
    assert not TOTPDevice.objects.filter(user=staff).exists() and not StaticToken.objects.filter(device__user=staff)
    reset = AuditEntry.objects.get(action="otp_reset")
    assert (reset.actor, reset.object_id, reset.office_id, reset.ip) == (world.office_admin, str(staff.pk),
                                                                         world.office.pk, "10.4.4.4")
    # His session typed a code of the device that is gone: it is sent to bind a new one.
    assert staffs_session.get(reverse("org:household_list"), follow=True).redirect_chain[-1][0].startswith(ENROL)

    client.force_login(world.zone_admin)
    assert client.post(reverse("accounts:second_factor_reset", args=[world.office_admin.pk])).status_code == 302


def test_a_reset_ends_a_lockout(world, settings):
    settings.LIANHU_OTP_FAILURE_LIMIT = 1
    user = world.office_staff
    verify(log_in(user), wrong_code(make_totp_device(user).bin_key))
    call_command("reset_second_factor", user.username)
    assert AuditEntry.objects.get(action="otp_reset").actor is None
    device = make_totp_device(user)
    assert verify(log_in(user), device_code(device))["Location"] == reverse("dashboard:home")
