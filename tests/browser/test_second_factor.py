"""The second factor in a real browser: an office clerk logs in with his password, binds his phone by the
secret shown beside the QR code (the code computed here as his authenticator app would), keeps his
recovery codes, and at his next login types the code his app shows."""

import re
from base64 import b32decode

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from lianhu.accounts.tests.factories import totp_code
from lianhu.common.testing import PASSWORD
from tests.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    return make_world()


def password_login(page, live_server, user, next_path: str = "") -> None:
    page.goto(live_server.url + "/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def test_an_office_clerk_binds_his_phone_then_logs_in_with_its_code(live_server, browser_page, w):
    page = browser_page
    password_login(page, live_server, w.office_staff, "/org/households/")
    assert "/accounts/second-factor/enrol/" in page.url
    qr = page.locator("img.qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")  # the policy let the QR code draw

    page.goto(live_server.url + "/org/households/")  # nothing else until it is bound
    assert "/accounts/second-factor/enrol/" in page.url
    key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.fill("input[name=code]", "12345")
    page.click("button:has-text('完成绑定')")
    assert "验证码格式不对" in page.locator("main").inner_text()
    page.fill("input[name=code]", totp_code(key))
    page.click("button:has-text('完成绑定')")

    assert "/accounts/second-factor/recovery-codes/" in page.url
    assert "手机验证器已绑定" in page.locator(".messages").inner_text()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
    page.click("text=我已保存，继续")
    page.wait_for_url("**/org/households/")

    page.click("button:has-text('退出')")
    password_login(page, live_server, w.office_staff)
    assert page.url.endswith("/accounts/second-factor/?next=%2F") or page.url.endswith("/accounts/second-factor/")
    page.fill("input[name=code]", codes[0].upper())  # a recovery code, as printed
    page.click("button:has-text('验证')")
    assert "还剩 9 个" in page.locator(".messages").inner_text()

    page.click("button:has-text('退出')")
    password_login(page, live_server, w.office_staff)
    device = TOTPDevice.objects.get(user=w.office_staff, confirmed=True)
    page.fill("input[name=code]", totp_code(key, last_t=device.last_t))
    page.click("button:has-text('验证')")
    page.wait_for_load_state()
    assert "/accounts/" not in page.url
    page.goto(live_server.url + "/org/households/")
    assert page.url.endswith("/org/households/") and "户" in page.locator("h1").inner_text()
