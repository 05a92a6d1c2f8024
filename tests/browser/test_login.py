import pytest

pytestmark = pytest.mark.browser


def test_the_login_page_shows_chinese_with_a_real_font(live_server, browser_page, assert_renders_chinese, tmp_path):
    response = browser_page.goto(live_server.url + "/accounts/login/")

    assert response.status == 200
    assert "登录" in browser_page.locator("body").inner_text()
    assert browser_page.locator("input[name=username]").is_visible()
    assert browser_page.locator("input[name=password]").is_visible()
    assert_renders_chinese(browser_page)
    shot = tmp_path / "login.png"
    browser_page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0


def test_the_login_page_fits_a_phone(live_server, phone_page):
    phone_page.goto(live_server.url + "/accounts/login/")

    assert "登录" in phone_page.locator("body").inner_text()
    # Nothing wider than the screen: no sideways scrolling on a 360-pixel phone.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
