"""A forgotten password, in a real browser: the secretary resets it, the member logs in and must change it."""

import pytest

from tests.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    return make_world()


def test_secretary_resets_a_members_password_and_the_member_changes_it_at_login(live_server, browser_page,
                                                                                 phone_page, log_in, w):
    page = browser_page
    log_in(page, w.secretary_a)
    page.click("header nav >> text=账号")
    page.click(f"tr:has-text('{w.member_user.username}') >> text=重置密码")
    page.click("button:has-text('重置密码')")
    temporary = page.locator("#temporary-password").inner_text()
    assert len(temporary) == 10

    phone = phone_page  # the member, on his own phone
    log_in(phone, w.member_user, temporary)
    assert phone.url.endswith("/accounts/password/")
    assert "请先修改密码" in phone.locator("main").inner_text()
    phone.goto(live_server.url + "/my/")
    assert phone.url.endswith("/accounts/password/")  # nothing else until it is changed
    phone.fill("input[name=old_password]", temporary)
    phone.fill("input[name=new_password1]", "member_a2026")  # holds the username
    phone.fill("input[name=new_password2]", "member_a2026")
    phone.click("button:has-text('修改密码')")
    assert "密码不能包含用户名" in phone.locator("main").inner_text()
    phone.fill("input[name=old_password]", temporary)
    phone.fill("input[name=new_password1]", "Lianxi#2026")
    phone.fill("input[name=new_password2]", "Lianxi#2026")
    phone.click("button:has-text('修改密码')")
    phone.wait_for_url("**/my/")
    assert "密码已修改" in phone.locator(".messages").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
